"""An in-process app on a real redis-server, with diagnostic strategies."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from aiohttp.test_utils import TestClient

from config.settings import Settings
from tests.support import StaticProvider, diagnostic_registry, make_settings
from web.app import create_app
from web.auth import mint_token

ClientFactory = Callable[..., Awaitable[TestClient]]


@pytest.fixture
def api_settings(shared_redis_server, redis) -> Settings:  # type: ignore[no-untyped-def]
    return make_settings(redis_url=shared_redis_server.url)


@pytest.fixture
def make_api(aiohttp_client) -> ClientFactory:  # type: ignore[no-untyped-def]
    async def build(settings: Settings) -> TestClient:
        app = create_app(settings, registry=diagnostic_registry(), provider=StaticProvider())
        return await aiohttp_client(app)

    return build


@pytest.fixture
async def api(make_api, api_settings) -> TestClient:  # type: ignore[no-untyped-def]
    return await make_api(api_settings)


@pytest.fixture
def auth(api_settings: Settings) -> Callable[..., dict[str, str]]:
    def headers(user: str = "alice", *, admin: bool = False, ttl_s: int = 600) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {mint_token(api_settings, user, admin=admin, ttl_s=ttl_s)}"
        }

    return headers
