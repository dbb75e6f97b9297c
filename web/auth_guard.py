"""Refusing clients that keep failing authentication (429), and telling clients
apart: by the peer address, or behind a trusted reverse proxy by X-Forwarded-For."""

from __future__ import annotations

import ipaddress
import math

import structlog
from aiohttp import web
from redis.exceptions import RedisError

from config.settings import Settings
from coordinator.service.auth_failures import AuthFailures
from web.errors import ApiError

log = structlog.get_logger(__name__)
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class AuthGuard:
    def __init__(self, failures: AuthFailures, settings: Settings) -> None:
        self._failures = failures
        self._trusted = tuple(
            ipaddress.ip_network(proxy, strict=False) for proxy in settings.trusted_proxies
        )

    def refuse_if_blocked(self, request: web.Request) -> None:
        """429 for a client this process knows to be over its failure limit. Nothing to
        do, not even finding the address, while no client is blocked."""
        if not self._failures.any_blocked:
            return
        left_s = self._failures.blocked_for_s(client_address(request, self._trusted))
        if left_s is not None:
            raise too_many_failures(left_s)

    async def count_failure(self, request: web.Request) -> None:
        """Count the 401 being answered; 429 instead when it takes the client over the
        limit. Redis unavailable: the 401 goes out uncounted, not a 503."""
        address = client_address(request, self._trusted)
        try:
            left_s = await self._failures.record(address)
        except (RedisError, OSError) as exc:
            log.warning("auth_failure_not_counted", error=type(exc).__name__)
            return
        if left_s is not None:
            log.warning("auth_failures_limited", client=address, retry_after_s=math.ceil(left_s))
            raise too_many_failures(left_s)


def too_many_failures(left_s: float) -> ApiError:
    return ApiError(
        429,
        "too_many_auth_failures",
        "too many requests with a missing or invalid token from this address; retry later",
        headers={"Retry-After": str(max(1, math.ceil(left_s)))},
    )


def client_address(request: web.Request, trusted: tuple[Network, ...]) -> str:
    """The peer address; when the peer is a trusted proxy, the nearest address in
    X-Forwarded-For that is not a trusted proxy (proxies append the address they saw,
    so entries left of it are whatever the client wrote)."""
    peer = request.remote or ""
    if not trusted or not is_trusted(peer, trusted):
        return peer
    hops = [
        hop.strip()
        for value in request.headers.getall("X-Forwarded-For", [])
        for hop in value.split(",")
    ]
    for hop in reversed(hops):
        try:
            address = ipaddress.ip_address(hop)
        except ValueError:
            return peer  # a malformed entry: nothing right of it named a client
        if not any(address in network for network in trusted):
            return str(address)
    return peer


def is_trusted(peer: str, trusted: tuple[Network, ...]) -> bool:
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    return any(address in network for network in trusted)


AUTH_GUARD = web.AppKey("auth_guard", AuthGuard)
