"""Repeated 401s from one client address get 429 (every request from it, a valid
token too, until the window ends), counted in Redis across workers; the address is
the peer's, or X-Forwarded-For's only behind a trusted proxy; a valid token costs
the limiter nothing."""

from __future__ import annotations

import msgspec
import pytest

from coordinator.service.auth_failures import AuthFailures
from web import auth_guard

LIMIT = 3
WINDOW_S = 60
BAD = {"Authorization": "Bearer not.a.token"}


@pytest.fixture
def limited_settings(api_settings):  # type: ignore[no-untyped-def]
    return msgspec.structs.replace(
        api_settings, auth_failures_per_window=LIMIT, auth_failure_window_s=WINDOW_S
    )


async def status_of(api, headers: dict[str, str]) -> int:  # type: ignore[no-untyped-def]
    return int((await api.get("/api/v1/scans", headers=headers)).status)


async def test_failures_beyond_the_limit_get_429_then_even_a_valid_token_does(
    make_api, limited_settings, auth
) -> None:  # type: ignore[no-untyped-def]
    api = await make_api(limited_settings)
    assert await status_of(api, auth()) == 200
    assert [await status_of(api, BAD) for _ in range(LIMIT)] == [401] * LIMIT
    response = await api.get("/api/v1/scans", headers=BAD)
    assert response.status == 429
    assert 1 <= int(response.headers["Retry-After"]) <= WINDOW_S
    assert (await response.json())["error"]["code"] == "too_many_auth_failures"
    assert await status_of(api, auth()) == 429  # the right guess gets no answer either
    assert await status_of(api, {}) == 429  # nor a request with no token
    assert (await api.get("/healthz")).status == 200  # public routes stay open


async def test_failures_count_across_workers(make_api, limited_settings, auth) -> None:  # type: ignore[no-untyped-def]
    one, two = await make_api(limited_settings), await make_api(limited_settings)
    assert [await status_of(one, BAD), await status_of(one, BAD)] == [401, 401]
    assert await status_of(two, BAD) == 401  # the third of the window, wherever it lands
    assert await status_of(two, BAD) == 429
    assert await status_of(one, auth()) == 200  # `one` has not seen the address fail since
    assert await status_of(one, BAD) == 429  # its next failure tells it
    assert await status_of(one, auth()) == 429


async def test_forwarded_for_names_the_client_only_behind_a_trusted_proxy(
    make_api, limited_settings
) -> None:  # type: ignore[no-untyped-def]
    def via(address: str) -> dict[str, str]:
        # The client's own claim first, then what the proxy appended.
        return {**BAD, "X-Forwarded-For": f"10.9.9.9, {address}"}

    trusting = msgspec.structs.replace(limited_settings, trusted_proxies=("127.0.0.0/8",))
    api = await make_api(trusting)
    assert [await status_of(api, via("203.0.113.7")) for _ in range(LIMIT + 1)][-1] == 429
    assert await status_of(api, via("203.0.113.8")) == 401  # another client, its own count
    # Through two trusted proxies: the nearest untrusted address is still the client.
    chained = {**BAD, "X-Forwarded-For": "203.0.113.7, 127.0.0.9"}
    assert await status_of(api, chained) == 429
    # Not a trusted proxy: the header is the client's word and is ignored.
    untrusting = await make_api(limited_settings)
    statuses = [await status_of(untrusting, via(f"198.51.100.{n}")) for n in range(LIMIT + 1)]
    assert statuses[-1] == 429


async def test_a_valid_token_costs_the_limiter_nothing(
    make_api, limited_settings, auth, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    calls: list[str] = []

    async def record(self, address):  # type: ignore[no-untyped-def]
        calls.append("record")

    def client_address(*args):  # type: ignore[no-untyped-def]
        calls.append("client_address")
        return "127.0.0.1"

    monkeypatch.setattr(AuthFailures, "record", record)
    monkeypatch.setattr(auth_guard, "client_address", client_address)
    api = await make_api(limited_settings)
    for _ in range(5):
        assert await status_of(api, auth()) == 200
    assert calls == []
    assert await status_of(api, BAD) == 401
    assert calls == ["client_address", "record"]


async def test_redis_away_still_answers_401_not_503(
    make_api, limited_settings, redis_server
) -> None:  # type: ignore[no-untyped-def]
    api = await make_api(msgspec.structs.replace(limited_settings, redis_url=redis_server.url))
    redis_server.stop()
    assert [await status_of(api, BAD) for _ in range(LIMIT + 1)] == [401] * (LIMIT + 1)
