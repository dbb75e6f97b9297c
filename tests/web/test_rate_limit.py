"""Starting scans is rate limited per user: past the window's limit a start is
a 429 with Retry-After and creates nothing; reading back an active scan does
not count, and other users are unaffected."""

from __future__ import annotations

import msgspec

from tests.support import eventually, make_settings

TERMINAL = {"completed", "partial", "failed", "cancelled"}

STARTS_PER_WINDOW = 2
WINDOW_S = 60


async def start_and_cancel(api, headers) -> str:  # type: ignore[no-untyped-def]
    response = await api.post("/api/v1/scans", json={"strategies": ["noop"]}, headers=headers)
    assert response.status == 202, await response.text()
    scan_id = (await response.json())["scan_id"]
    assert (await api.delete(f"/api/v1/scans/{scan_id}", headers=headers)).status in (200, 202)

    async def ended() -> bool:
        read = await (await api.get(f"/api/v1/scans/{scan_id}", headers=headers)).json()
        return read["status"] in TERMINAL

    await eventually(ended, what=f"scan {scan_id} to end")
    return str(scan_id)


async def test_starts_past_the_window_limit_are_429_and_create_nothing(
    make_api, api_settings, auth
) -> None:  # type: ignore[no-untyped-def]
    settings = msgspec.structs.replace(
        api_settings, scan_starts_per_window=STARTS_PER_WINDOW, rate_window_s=WINDOW_S
    )
    api = await make_api(settings)
    alice = auth("alice")
    for _ in range(STARTS_PER_WINDOW):
        await start_and_cancel(api, alice)
    before = len((await (await api.get("/api/v1/scans", headers=alice)).json())["scans"])

    refused = await api.post("/api/v1/scans", json={}, headers=alice)

    assert refused.status == 429
    body = await refused.json()
    assert body["error"]["code"] == "too_many_scans"
    assert f"{STARTS_PER_WINDOW} scans" in body["error"]["message"]
    assert 0 < int(refused.headers["Retry-After"]) <= WINDOW_S
    after = len((await (await api.get("/api/v1/scans", headers=alice)).json())["scans"])
    assert after == before, "a refused start created a scan"
    # Another user has a window of their own.
    assert (await api.post("/api/v1/scans", json={}, headers=auth("bob"))).status == 202


async def test_reading_back_the_active_scan_does_not_count(make_api, api_settings, auth) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(
        redis_url=api_settings.redis_url, scan_starts_per_window=1, rate_window_s=WINDOW_S
    )
    api = await make_api(settings)
    alice = auth("alice")
    first = await api.post("/api/v1/scans", json={"strategies": ["sleep_2s"]}, headers=alice)
    assert first.status == 202
    for _ in range(3):
        again = await api.post("/api/v1/scans", json={"strategies": ["sleep_2s"]}, headers=alice)
        assert again.status == 200, await again.text()
        assert (await again.json())["scan_id"] == (await first.json())["scan_id"]
