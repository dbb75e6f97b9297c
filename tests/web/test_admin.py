"""The admin surface: paged and filtered lease listing, live workers, operator cancel."""

from __future__ import annotations

from tests.support import eventually

USERS = [f"user-{index}" for index in range(5)]


async def start_running_scans(api, auth) -> list[str]:  # type: ignore[no-untyped-def]
    ids = []
    for user in USERS:
        response = await api.post(
            "/api/v1/scans", json={"strategies": ["sleep_2s"]}, headers=auth(user)
        )
        ids.append((await response.json())["scan_id"])
    return ids


async def admin_get(api, auth, path: str) -> dict:  # type: ignore[no-untyped-def,type-arg]
    response = await api.get(f"/api/v1/admin{path}", headers=auth("root", admin=True))
    assert response.status == 200, await response.text()
    return await response.json()  # type: ignore[no-any-return]


async def test_lease_pages_cover_every_live_scan_once(api, auth) -> None:  # type: ignore[no-untyped-def]
    ids = await start_running_scans(api, auth)
    seen: list[str] = []
    cursor = ""
    while True:
        page = await admin_get(api, auth, f"/leases?limit=2&cursor={cursor}")
        assert page["count"] <= 2 and page["live_scans"] == len(ids)
        seen.extend(entry["scan_id"] for entry in page["leases"])
        if page["next_cursor"] is None:
            break
        cursor = page["next_cursor"]
    assert sorted(seen) == sorted(ids)


async def test_lease_filters(api, auth, api_settings) -> None:  # type: ignore[no-untyped-def]
    ids = await start_running_scans(api, auth)
    mine = await admin_get(api, auth, "/leases?user=user-3")
    assert [entry["scan_id"] for entry in mine["leases"]] == [ids[3]]

    async def all_running():  # type: ignore[no-untyped-def]
        page = await admin_get(api, auth, f"/leases?status=running&worker={api_settings.worker_id}")
        return page if page["count"] == len(ids) else None

    await eventually(all_running, what="every scan running on this worker")
    assert (await admin_get(api, auth, "/leases?worker=elsewhere:1"))["count"] == 0
    bad = await api.get("/api/v1/admin/leases?status=sleeping", headers=auth("root", admin=True))
    assert bad.status == 422


async def test_workers_listing_shows_heartbeat_and_load(api, auth, api_settings) -> None:  # type: ignore[no-untyped-def]
    await start_running_scans(api, auth)

    async def loaded():  # type: ignore[no-untyped-def]
        workers = (await admin_get(api, auth, "/workers"))["workers"]
        ours = [worker for worker in workers if worker["worker_id"] == api_settings.worker_id]
        return ours[0] if ours and ours[0]["scans"] == len(USERS) else None

    worker = await eventually(loaded, what="heartbeat showing the owned scans")
    assert worker["pid"] == api_settings.pid
    assert 0 <= worker["heartbeat_age_ms"] < 10 * api_settings.worker_heartbeat_interval_ms
    assert worker["strategy_tasks"] >= 1


async def test_operator_cancels_any_users_scan(api, auth) -> None:  # type: ignore[no-untyped-def]
    scan_id = (await start_running_scans(api, auth))[0]
    path = f"/api/v1/admin/scans/{scan_id}/cancel"
    assert (await api.post(path, headers=auth("user-1"))).status == 403
    response = await api.post(path, headers=auth("root", admin=True))
    assert response.status == 202

    async def cancelled():  # type: ignore[no-untyped-def]
        body = await (await api.get(f"/api/v1/scans/{scan_id}", headers=auth(USERS[0]))).json()
        return body if body["status"] == "cancelled" else None

    final = await eventually(cancelled, what="operator cancel applied")
    assert final["cancel_reason"] == "cancelled by admin:root"
    missing = await api.post(
        f"/api/v1/admin/scans/{'0' * 32}/cancel", headers=auth("root", admin=True)
    )
    assert missing.status == 404
