"""Operations endpoints leak nothing: /metrics behind METRICS_TOKEN when it is set
(compared in constant time; a user's token does not open it), no secret, URL or host
in its text, bounded labels; /readyz answers a reason code only."""

from __future__ import annotations

import hmac
import socket
from urllib.parse import urlsplit

import msgspec

from tests.support import TEST_SECRET, eventually
from web import auth as auth_module

METRICS_TOKEN = "scraper-token-for-the-metrics-endpoint"


async def test_metrics_token_is_required_when_set(
    make_api, api_settings, auth, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    api = await make_api(msgspec.structs.replace(api_settings, metrics_token=METRICS_TOKEN))
    compared: list[bytes] = []
    compare = hmac.compare_digest

    def spy(given: bytes, expected: bytes) -> bool:
        compared.append(expected)
        return compare(given, expected)

    monkeypatch.setattr(auth_module.hmac, "compare_digest", spy)
    for headers in (
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": METRICS_TOKEN},  # no scheme
        auth("root", admin=True),  # a user's token, even an admin's, is not the scraper's
    ):
        response = await api.get("/metrics", headers=headers)
        assert response.status == 401, headers
        assert "METRICS_TOKEN" in (await response.json())["error"]["message"]
    allowed = await api.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert allowed.status == 200
    assert "oppscan_http_requests_total" in await allowed.text()
    assert compared and set(compared) == {METRICS_TOKEN.encode()}  # constant-time compare


async def test_metrics_are_public_without_a_metrics_token(api) -> None:  # type: ignore[no-untyped-def]
    assert (await api.get("/metrics")).status == 200


async def test_metrics_name_no_secret_url_or_host(api, api_settings, auth) -> None:  # type: ignore[no-untyped-def]
    await api.get("/api/v1/scans", headers=auth())
    await api.request("PROPFIND", "/api/v1/scans", headers=auth())
    text = await (await api.get("/metrics")).text()
    redis = urlsplit(api_settings.redis_url)
    for secret in (TEST_SECRET, api_settings.redis_url, f":{redis.port}", socket.gethostname()):
        assert secret not in text, secret
    assert api_settings.worker_id not in text
    # A method outside the usual ones is counted under one label, not its own.
    assert 'method="other"' in text and "PROPFIND" not in text


async def test_readyz_answers_a_reason_code_and_nothing_about_the_host(
    make_api, redis_server, api_settings, redis
) -> None:  # type: ignore[no-untyped-def]
    api = await make_api(msgspec.structs.replace(api_settings, redis_url=redis_server.url))
    ready = await api.get("/readyz")
    assert (ready.status, await ready.json()) == (200, {"ready": True})
    redis_server.stop()
    down = await api.get("/readyz")
    body = await down.text()
    assert down.status == 503
    assert msgspec.json.decode(body) == {"ready": False, "reason": "redis_unreachable"}
    assert str(urlsplit(redis_server.url).port) not in body


async def test_readyz_after_data_loss_says_so_by_code(make_api, api_settings, redis) -> None:  # type: ignore[no-untyped-def]
    api = await make_api(api_settings)
    await redis.flushall()  # stands in for a restart that lost the data

    async def closed():  # type: ignore[no-untyped-def]
        response = await api.get("/readyz")
        return response.status == 503 and await response.json()

    assert await eventually(closed, what="readiness to fail closed") == {
        "ready": False,
        "reason": "redis_data_lost",
    }
