"""The v1 REST contract, in process, on a real redis-server."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from tests.support import eventually

TERMINAL = {"completed", "partial", "failed", "cancelled"}


async def start(api: TestClient, headers: dict[str, str], **body: object) -> dict:  # type: ignore[type-arg]
    response = await api.post(
        "/api/v1/scans", json=body or {"strategies": ["noop"]}, headers=headers
    )
    assert response.status in (200, 202), await response.text()
    return await response.json()


async def wait_terminal(api: TestClient, headers: dict[str, str], scan_id: str) -> dict:  # type: ignore[type-arg]
    async def probe():  # type: ignore[no-untyped-def]
        response = await api.get(f"/api/v1/scans/{scan_id}", headers=headers)
        assert response.status == 200
        body = await response.json()
        return body if body["status"] in TERMINAL else None

    return await eventually(probe, what="terminal snapshot")


async def test_created_scan_is_readable_at_once_with_a_known_total(api, auth) -> None:  # type: ignore[no-untyped-def]
    response = await api.post(
        "/api/v1/scans", json={"strategies": ["noop", "sleep_100ms"]}, headers=auth()
    )
    assert response.status == 202
    created = await response.json()
    assert response.headers["Location"] == f"/api/v1/scans/{created['scan_id']}"
    assert created["status"] == "queued"
    assert created["progress"]["total_strategies"] == 2
    read = await api.get(response.headers["Location"], headers=auth())
    assert read.status == 200
    assert (await read.json())["scan_id"] == created["scan_id"]


async def test_scan_runs_to_completed_with_results(api, auth) -> None:  # type: ignore[no-untyped-def]
    created = await start(api, auth(), strategies=["noop", "sleep_100ms"], symbols=["ETH/USDT"])
    final = await wait_terminal(api, auth(), created["scan_id"])
    assert final["status"] == "completed"
    assert final["progress"] == {
        "strategies_completed": 2,
        "total_strategies": 2,
        "percentage": 100.0,
        "opportunities_found_so_far": 1,
    }
    results = await (
        await api.get(f"/api/v1/scans/{created['scan_id']}/results", headers=auth())
    ).json()
    assert results["partial"] is False
    assert results["market_data_as_of"] is not None
    assert [o["symbol"] for o in results["opportunities"]] == ["ETH/USDT"]


async def test_versions_grow_and_etag_gives_304(api, auth) -> None:  # type: ignore[no-untyped-def]
    created = await start(api, auth(), strategies=["sleep_100ms"])
    final = await wait_terminal(api, auth(), created["scan_id"])
    assert final["version"] > created["version"]
    response = await api.get(f"/api/v1/scans/{created['scan_id']}", headers=auth())
    assert response.headers["ETag"] == f'"{final["version"]}"'
    again = await api.get(
        f"/api/v1/scans/{created['scan_id']}",
        headers={**auth(), "If-None-Match": response.headers["ETag"]},
    )
    assert again.status == 304


async def test_user_with_an_active_scan_gets_it_back(api, auth) -> None:  # type: ignore[no-untyped-def]
    first = await start(api, auth(), strategies=["sleep_500ms"])
    response = await api.post("/api/v1/scans", json={"strategies": ["noop"]}, headers=auth())
    assert response.status == 200
    assert (await response.json())["scan_id"] == first["scan_id"]
    other = await start(api, auth("bob"), strategies=["noop"])
    assert other["scan_id"] != first["scan_id"]


async def test_idempotency_key_returns_the_original_scan_after_it_ended(api, auth) -> None:  # type: ignore[no-untyped-def]
    headers = {**auth(), "Idempotency-Key": "retry-123"}
    first = await api.post("/api/v1/scans", json={"strategies": ["noop"]}, headers=headers)
    scan_id = (await first.json())["scan_id"]
    await wait_terminal(api, auth(), scan_id)
    retry = await api.post("/api/v1/scans", json={"strategies": ["noop"]}, headers=headers)
    assert retry.status == 200
    assert (await retry.json())["scan_id"] == scan_id
    fresh = await api.post("/api/v1/scans", json={"strategies": ["noop"]}, headers=auth())
    assert fresh.status == 202 and (await fresh.json())["scan_id"] != scan_id


async def test_cancel_ends_the_scan_cancelled(api, auth) -> None:  # type: ignore[no-untyped-def]
    created = await start(api, auth(), strategies=["sleep_2s"])
    response = await api.delete(f"/api/v1/scans/{created['scan_id']}", headers=auth())
    assert response.status == 202
    final = await wait_terminal(api, auth(), created["scan_id"])
    assert final["status"] == "cancelled"
    assert (await api.delete(f"/api/v1/scans/{created['scan_id']}", headers=auth())).status == 200


async def test_list_and_lifecycle(api, auth) -> None:  # type: ignore[no-untyped-def]
    created = await start(api, auth(), strategies=["noop"])
    await wait_terminal(api, auth(), created["scan_id"])
    listing = await (await api.get("/api/v1/scans", headers=auth())).json()
    assert [scan["scan_id"] for scan in listing["scans"]] == [created["scan_id"]]
    assert (await (await api.get("/api/v1/scans", headers=auth("bob"))).json())["scans"] == []
    timeline = await (
        await api.get(f"/api/v1/scans/{created['scan_id']}/lifecycle", headers=auth())
    ).json()
    events = [event["event"] for event in timeline["events"]]
    assert events[0] == "created" and events[-1] == "finished"
    assert {"claimed", "strategy_started", "strategy_finished"} <= set(events)


async def test_another_users_scan_is_a_404_like_a_missing_one(api, auth) -> None:  # type: ignore[no-untyped-def]
    created = await start(api, auth(), strategies=["noop"])
    theirs = await api.get(f"/api/v1/scans/{created['scan_id']}", headers=auth("mallory"))
    missing = await api.get(f"/api/v1/scans/{'0' * 32}", headers=auth("mallory"))
    assert theirs.status == missing.status == 404
    body_theirs, body_missing = await theirs.json(), await missing.json()
    assert body_theirs["error"]["code"] == body_missing["error"]["code"] == "not_found"
    for path in ("/results", "/lifecycle"):
        assert (
            await api.get(f"/api/v1/scans/{created['scan_id']}{path}", headers=auth("mallory"))
        ).status == 404
    assert (
        await api.delete(f"/api/v1/scans/{created['scan_id']}", headers=auth("mallory"))
    ).status == 404


async def test_compatibility_routes_keep_the_old_shapes(api, auth) -> None:  # type: ignore[no-untyped-def]
    response = await api.post(
        "/api/v1/opportunities/discover", json={"strategies": ["noop"]}, headers=auth()
    )
    assert response.status == 202
    started = await response.json()
    assert started["success"] is True and started["status"] == "scanning"
    scan_id = started["scan_id"]

    async def complete():  # type: ignore[no-untyped-def]
        body = await (
            await api.get(f"/api/v1/opportunities/status/{scan_id}", headers=auth())
        ).json()
        return body if body["status"] == "complete" else None

    status = await eventually(complete, what="old status complete")
    assert set(status["progress"]) == {
        "strategies_completed",
        "total_strategies",
        "percentage",
        "opportunities_found_so_far",
    }
    results = await (
        await api.get(f"/api/v1/opportunities/results/{scan_id}", headers=auth())
    ).json()
    assert results["success"] is True and results["opportunities"] == []
    missing = await api.get(f"/api/v1/opportunities/status/{'0' * 32}", headers=auth())
    assert missing.status == 404 and (await missing.json())["status"] == "not_found"


async def test_admin_lease_listing_shows_the_owner_of_a_running_scan(
    api, auth, api_settings
) -> None:  # type: ignore[no-untyped-def]
    created = await start(api, auth(), strategies=["sleep_2s"])

    async def listed():  # type: ignore[no-untyped-def]
        body = await (
            await api.get("/api/v1/admin/leases", headers=auth("root", admin=True))
        ).json()
        entries = [entry for entry in body["leases"] if entry["scan_id"] == created["scan_id"]]
        # The lease is taken a moment before the owner's first publish says "running".
        ready = entries and entries[0]["epoch"] and entries[0]["status"] == "running"
        return entries[0] if ready else None

    entry = await eventually(listed, what="the scan's lease in the admin listing")
    assert entry["user_id"] == "alice" and entry["status"] == "running"
    assert entry["worker_id"] == api_settings.worker_id and entry["pid"] == api_settings.pid
    assert entry["epoch"] == 1
    assert 0 < entry["lease_expires_in_ms"] <= api_settings.lease_ttl_ms
    assert entry["progress"]["total_strategies"] == 1 and entry["age_s"] >= 0
    await api.delete(f"/api/v1/scans/{created['scan_id']}", headers=auth())
    await wait_terminal(api, auth(), created["scan_id"])
    after = await (await api.get("/api/v1/admin/leases", headers=auth("root", admin=True))).json()
    assert created["scan_id"] not in [entry["scan_id"] for entry in after["leases"]]
