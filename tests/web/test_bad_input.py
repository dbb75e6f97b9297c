"""Bad input gets a clear error with the right status; never a 500 or a trace."""

from __future__ import annotations

import time

import jwt
import pytest

from tests.support import TEST_SECRET


async def error_of(response) -> dict:  # type: ignore[no-untyped-def,type-arg]
    body = await response.json()
    assert set(body) == {"error"}
    assert {"code", "message"} <= set(body["error"])
    assert "Traceback" not in body["error"]["message"]
    return body["error"]


async def test_malformed_json_is_400(api, auth) -> None:  # type: ignore[no-untyped-def]
    response = await api.post("/api/v1/scans", data=b'{"strategies": [', headers=auth())
    assert response.status == 400
    assert (await error_of(response))["code"] == "malformed_json"


@pytest.mark.parametrize(
    "body", [b'{"strategies": "noop"}', b'{"strategies": [1]}', b'{"colour": 1}', b"[]"]
)
async def test_wrong_shape_is_422(api, auth, body: bytes) -> None:  # type: ignore[no-untyped-def]
    response = await api.post("/api/v1/scans", data=body, headers=auth())
    assert response.status == 422


async def test_unknown_strategy_is_422_listing_the_valid_ones(api, auth) -> None:  # type: ignore[no-untyped-def]
    response = await api.post(
        "/api/v1/scans", json={"strategies": ["noop", "astrology"]}, headers=auth()
    )
    assert response.status == 422
    error = await error_of(response)
    assert "astrology" in error["message"]
    assert "noop" in error["details"]["valid"]


async def test_unknown_symbol_is_422_naming_it(api, auth) -> None:  # type: ignore[no-untyped-def]
    response = await api.post("/api/v1/scans", json={"symbols": ["DOGE/MOON"]}, headers=auth())
    assert response.status == 422
    error = await error_of(response)
    assert "DOGE/MOON" in error["message"] and "BTC/USDT" in error["details"]["valid"]


async def test_body_over_the_limit_is_413(api, auth, api_settings) -> None:  # type: ignore[no-untyped-def]
    big = b'{"strategies": ["' + b"x" * (api_settings.max_body_bytes + 1) + b'"]}'
    response = await api.post("/api/v1/scans", data=big, headers=auth())
    assert response.status == 413
    assert (await error_of(response))["code"] == "too_large"


@pytest.mark.parametrize("header", [None, "Bearer", "Basic abc", "Bearer not.a.jwt"])
async def test_missing_or_malformed_token_is_401(api, header) -> None:  # type: ignore[no-untyped-def]
    headers = {"Authorization": header} if header else {}
    response = await api.get("/api/v1/scans", headers=headers)
    assert response.status == 401
    await error_of(response)


async def test_forged_and_expired_tokens_are_401(api) -> None:  # type: ignore[no-untyped-def]
    now = int(time.time())
    forged = jwt.encode(
        {"sub": "alice", "exp": now + 60}, "some-other-secret-of-32-bytes-len", algorithm="HS256"
    )
    expired = jwt.encode({"sub": "alice", "exp": now - 60}, TEST_SECRET, algorithm="HS256")
    no_exp = jwt.encode({"sub": "alice"}, TEST_SECRET, algorithm="HS256")
    for token, code in (
        (forged, "invalid_token"),
        (expired, "token_expired"),
        (no_exp, "invalid_token"),
    ):
        response = await api.get("/api/v1/scans", headers={"Authorization": f"Bearer {token}"})
        assert response.status == 401
        assert (await error_of(response))["code"] == code


async def test_bad_query_values(api, auth) -> None:  # type: ignore[no-untyped-def]
    assert (await api.get("/api/v1/scans?limit=ten", headers=auth())).status == 400
    assert (await api.get("/api/v1/scans?limit=0", headers=auth())).status == 422


async def test_bad_idempotency_key_is_400(api, auth) -> None:  # type: ignore[no-untyped-def]
    response = await api.post(
        "/api/v1/scans", json={}, headers={**auth(), "Idempotency-Key": "k" * 500}
    )
    assert response.status == 400


async def test_unknown_route_and_method_are_json_errors(api, auth) -> None:  # type: ignore[no-untyped-def]
    missing = await api.get("/api/v1/nothing", headers=auth())
    assert missing.status == 404
    await error_of(missing)
    wrong = await api.put("/api/v1/scans", headers=auth())
    assert wrong.status == 405
    await error_of(wrong)


async def test_malformed_scan_id_is_404(api, auth) -> None:  # type: ignore[no-untyped-def]
    for scan_id in ("abc", "{x}", "Z" * 32):
        response = await api.get(f"/api/v1/scans/{scan_id}", headers=auth())
        assert response.status == 404


async def test_admin_routes_need_the_admin_role(api, auth) -> None:  # type: ignore[no-untyped-def]
    denied = await api.get("/api/v1/admin/leases", headers=auth("alice"))
    assert denied.status == 403
    assert (await api.get("/api/v1/admin/leases")).status == 401
    allowed = await api.get("/api/v1/admin/leases", headers=auth("root", admin=True))
    assert allowed.status == 200
