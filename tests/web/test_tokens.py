"""Token checks by PyJWT's own options: a clock-skew leeway on exp/nbf/iat, `sub` and
`exp` required, `aud`/`iss` required and checked when configured (a token naming an
audience refused when none is), and a previous secret accepted while rotating."""

from __future__ import annotations

import time
from typing import Any

import jwt
import msgspec
import pytest

from tests.support import TEST_SECRET
from web.auth import ALGORITHM, mint_token

PREVIOUS_SECRET = "the-secret-before-the-rotation-32bytes"
OTHER_SECRET = "a-secret-this-service-never-had-32bytes"
LEEWAY_S = 30


def token(secret: str = TEST_SECRET, **claims: Any) -> str:
    now = int(time.time())
    return jwt.encode({"sub": "alice", "exp": now + 600, **claims}, secret, algorithm=ALGORITHM)


async def answer(api, token: str) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    """(status, error code, error message) of a request made with the token."""
    response = await api.get("/api/v1/scans", headers={"Authorization": f"Bearer {token}"})
    if response.status == 200:
        return 200, "", ""
    error = (await response.json())["error"]
    return response.status, error["code"], error["message"]


async def test_leeway_forgives_clock_skew_on_exp_nbf_and_iat_but_no_more(api) -> None:  # type: ignore[no-untyped-def]
    now = int(time.time())
    within = LEEWAY_S // 3
    beyond = LEEWAY_S * 2
    assert (await answer(api, token(exp=now - within)))[0] == 200
    assert (await answer(api, token(nbf=now + within)))[0] == 200
    assert (await answer(api, token(iat=now + within)))[0] == 200
    assert (await answer(api, token(exp=now - beyond)))[:2] == (401, "token_expired")
    assert (await answer(api, token(nbf=now + beyond)))[:2] == (401, "invalid_token")
    assert (await answer(api, token(iat=now + beyond)))[:2] == (401, "invalid_token")


async def test_no_leeway_when_set_to_zero(make_api, api_settings) -> None:  # type: ignore[no-untyped-def]
    api = await make_api(msgspec.structs.replace(api_settings, jwt_leeway_s=0))
    now = int(time.time())
    assert (await answer(api, token(exp=now - 5)))[:2] == (401, "token_expired")


async def test_sub_and_exp_are_required(api) -> None:  # type: ignore[no-untyped-def]
    now = int(time.time())
    no_sub = jwt.encode({"exp": now + 600}, TEST_SECRET, algorithm=ALGORITHM)
    no_exp = jwt.encode({"sub": "alice"}, TEST_SECRET, algorithm=ALGORITHM)
    for bad in (no_sub, no_exp):
        status, code, message = await answer(api, bad)
        assert (status, code) == (401, "invalid_token")
        assert "sub" in message or "exp" in message, message


async def test_a_token_naming_an_audience_is_refused_when_none_is_configured(api) -> None:  # type: ignore[no-untyped-def]
    status, code, message = await answer(api, token(aud="another-service"))
    assert (status, code) == (401, "invalid_token")
    assert "audience" in message and "configured" in message, message


async def test_configured_audience_and_issuer_are_required_and_checked(
    make_api, api_settings
) -> None:  # type: ignore[no-untyped-def]
    api = await make_api(
        msgspec.structs.replace(api_settings, jwt_audience="oppscan", jwt_issuer="https://idp")
    )
    right = {"aud": "oppscan", "iss": "https://idp"}
    assert (await answer(api, token(**right)))[0] == 200
    assert (await answer(api, token(aud=["other", "oppscan"], iss="https://idp")))[0] == 200
    for claims in (
        {"iss": "https://idp"},  # no aud
        {"aud": "oppscan"},  # no iss
        {"aud": "other", "iss": "https://idp"},
        {"aud": "oppscan", "iss": "https://elsewhere"},
    ):
        status, code, message = await answer(api, token(**claims))
        assert (status, code) == (401, "invalid_token"), (claims, message)


async def test_previous_secret_verifies_while_new_tokens_use_the_current_one(
    make_api, api_settings
) -> None:  # type: ignore[no-untyped-def]
    rotated = msgspec.structs.replace(api_settings, jwt_secret_previous=PREVIOUS_SECRET)
    api = await make_api(rotated)
    assert (await answer(api, token(PREVIOUS_SECRET)))[0] == 200
    assert (await answer(api, token(TEST_SECRET)))[0] == 200
    status, code, message = await answer(api, token(OTHER_SECRET))
    assert (status, code) == (401, "invalid_token") and "signature" in message
    # A previous-secret token that expired is expired, not "bad signature".
    expired = token(PREVIOUS_SECRET, exp=int(time.time()) - 2 * LEEWAY_S)
    assert (await answer(api, expired))[:2] == (401, "token_expired")
    minted = mint_token(rotated, "bob")
    assert jwt.decode(minted, TEST_SECRET, algorithms=[ALGORITHM])["sub"] == "bob"
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(minted, PREVIOUS_SECRET, algorithms=[ALGORITHM])


async def test_without_a_previous_secret_its_tokens_are_refused(api) -> None:  # type: ignore[no-untyped-def]
    assert (await answer(api, token(PREVIOUS_SECRET)))[:2] == (401, "invalid_token")
