"""The page's server side: `/` and its files are public, and the token-minting
endpoint exists only in development mode."""

from __future__ import annotations

import gzip

import msgspec
import pytest

from web.auth import TokenVerifier
from web.page import DEV_TOKEN_TTL_S, STATIC_DIR


@pytest.fixture
async def dev_api(make_api, api_settings):  # type: ignore[no-untyped-def]
    return await make_api(msgspec.structs.replace(api_settings, dev_mode=True))


async def test_the_page_is_served_without_a_token_under_a_strict_policy(api) -> None:  # type: ignore[no-untyped-def]
    response = await api.get("/")
    assert response.status == 200
    assert response.content_type == "text/html"
    assert "Opportunity Scanner" in await response.text()
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "unsafe-inline" not in policy


@pytest.mark.parametrize(
    "path",
    sorted(str(p.relative_to(STATIC_DIR)) for p in STATIC_DIR.rglob("*.*") if p.is_file()),
)
async def test_every_static_file_is_served_with_its_type(api, path: str) -> None:  # type: ignore[no-untyped-def]
    response = await api.get(f"/static/{path}")
    assert response.status == 200
    expected = {
        "html": "text/html",
        "css": "text/css",
        "js": "javascript",
        "svg": "image/svg+xml",
    }[path.rsplit(".", 1)[1]]
    assert expected in response.content_type


async def test_a_static_path_outside_the_directory_is_404(api) -> None:  # type: ignore[no-untyped-def]
    response = await api.get("/static/..%2f..%2fpage.py")
    assert response.status in (403, 404)


async def test_minting_is_404_outside_development_mode(api) -> None:  # type: ignore[no-untyped-def]
    response = await api.post("/api/v1/dev/token", json={"user": "mallory", "admin": True})
    assert response.status == 404
    assert (await response.json())["error"]["code"] == "not_found"


async def test_a_minted_token_names_its_user_and_verifies(dev_api, api_settings) -> None:  # type: ignore[no-untyped-def]
    response = await dev_api.post("/api/v1/dev/token", json={"user": "carol"})
    assert response.status == 200
    body = await response.json()
    assert body["user"] == "carol"
    assert body["expires_in_s"] == DEV_TOKEN_TTL_S
    principal = TokenVerifier(api_settings).verify(body["token"])
    assert (principal.user_id, principal.is_admin) == ("carol", False)
    scans = await dev_api.get("/api/v1/scans", headers={"Authorization": f"Bearer {body['token']}"})
    assert scans.status == 200


@pytest.mark.parametrize("user", ["carol", "dev-admin"])
async def test_the_development_route_never_mints_admin(dev_api, user: str) -> None:  # type: ignore[no-untyped-def]
    response = await dev_api.post("/api/v1/dev/token", json={"user": user, "admin": True})
    assert response.status == 403
    error = (await response.json())["error"]
    assert error["code"] == "forbidden" and "oppscan token" in error["message"]
    assert "token" not in await response.json()


@pytest.mark.parametrize(
    ("body", "status"),
    [(b'{"user": ', 400), (b'{"user": ""}', 422), (b'{"user": "x", "colour": 1}', 422)],
)
async def test_bad_mint_requests_are_4xx(dev_api, body: bytes, status: int) -> None:  # type: ignore[no-untyped-def]
    response = await dev_api.post("/api/v1/dev/token", data=body)
    assert response.status == status


async def test_static_files_are_sent_gzipped_to_a_browser_that_accepts_it(api) -> None:  # type: ignore[no-untyped-def]
    library = "vendor/lightweight-charts-5.3.0/lightweight-charts.standalone.production.js"
    raw = (STATIC_DIR / library).read_bytes()
    response = await api.get(
        f"/static/{library}", headers={"Accept-Encoding": "gzip"}, auto_decompress=False
    )
    assert response.status == 200
    assert response.headers["Content-Encoding"] == "gzip"
    sent = await response.read()
    assert gzip.decompress(sent) == raw
    # On the wire it is a third of the file (measured: 199 KB -> 63 KB).
    assert len(sent) < len(raw) / 2, len(sent)
    plain = await api.get(f"/static/{library}", headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers and await plain.read() == raw
    # A revalidation gets its bodiless 304, never a compressed one.
    again = await api.get(
        f"/static/{library}",
        headers={"Accept-Encoding": "gzip", "If-Modified-Since": response.headers["Last-Modified"]},
    )
    assert again.status == 304 and await again.read() == b""
