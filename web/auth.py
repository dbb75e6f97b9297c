"""Bearer JWT authentication (HS256): `sub` is the user, `role: admin` opens admin routes.

Verified tokens are cached per process (bounded, and never past their `exp` plus
the leeway), so a status read costs one HMAC verification per token per cache
period. PyJWT's own options check the claims (leeway, required claims, audience,
issuer); a previous secret still verifies during a rotation. The token travels in
the Authorization header, and outside it only to the websocket route. Every 401
goes through the per-address failure limit (web.auth_guard).
"""

from __future__ import annotations

import hmac
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, TypeVar

import jwt
from aiohttp import hdrs, web

from config.settings import Settings
from web.auth_guard import AUTH_GUARD
from web.errors import ApiError, Handler
from web.keys import SETTINGS

T = TypeVar("T")
ALGORITHM = "HS256"
ADMIN_ROLE = "admin"
# Longest accepted user id (`sub`): it becomes part of Redis key names.
USER_ID_MAX_CHARS = 128
# Distinct tokens remembered per process; the oldest is forgotten first.
TOKEN_CACHE_SIZE = 10_000
PUBLIC_PATHS = frozenset({"/healthz", "/readyz", "/", "/api/v1/dev/token", "/api/v1/openapi.json"})
# Public unless METRICS_TOKEN is set; then only that token opens it.
METRICS_PATH = "/metrics"
# The one route that takes a token outside the Authorization header (see bearer_token).
WEBSOCKET_ROUTE_NAME = "scan_feed"
CHALLENGE = {"WWW-Authenticate": "Bearer"}


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: str
    is_admin: bool
    valid_until: float  # time.monotonic() after which the cache entry is stale


class TokenVerifier:
    def __init__(self, settings: Settings) -> None:
        # Tried in order: a token signed before the last rotation still verifies.
        self._secrets = tuple(
            secret for secret in (settings.jwt_secret, settings.jwt_secret_previous) if secret
        )
        self._leeway_s = settings.jwt_leeway_s
        self._audience = settings.jwt_audience
        self._issuer = settings.jwt_issuer
        self._required = required_claims(settings)
        self._cache_ttl_s = settings.token_cache_ttl_s
        self._cache: OrderedDict[str, Principal] = OrderedDict()

    def verify(self, token: str) -> Principal:
        cached = self._cache.get(token)
        if cached is not None and cached.valid_until > time.monotonic():
            return cached
        principal = self.decode(token)
        self._cache[token] = principal
        if len(self._cache) > TOKEN_CACHE_SIZE:
            self._cache.popitem(last=False)
        return principal

    def decode(self, token: str) -> Principal:
        claims = self.claims_of(token)
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject or len(subject) > USER_ID_MAX_CHARS:
            raise ApiError(401, "invalid_token", "token `sub` must be a non-empty string")
        remaining_s = float(claims["exp"]) + self._leeway_s - time.time()
        valid_until = time.monotonic() + min(self._cache_ttl_s, remaining_s)
        return Principal(subject, claims.get("role") == ADMIN_ROLE, valid_until)

    def claims_of(self, token: str) -> dict[str, Any]:
        """The verified claims: PyJWT checks the signature, exp/nbf/iat with the leeway,
        the required claims, and aud/iss when configured."""
        for index, secret in enumerate(self._secrets):
            try:
                return jwt.decode(
                    token,
                    secret,
                    algorithms=[ALGORITHM],
                    options={"require": list(self._required)},
                    audience=self._audience,
                    issuer=self._issuer,
                    leeway=self._leeway_s,
                )
            except jwt.InvalidSignatureError:
                if index + 1 < len(self._secrets):
                    continue  # maybe signed before the rotation
                raise ApiError(
                    401, "invalid_token", "bearer token rejected: bad signature"
                ) from None
            except jwt.ExpiredSignatureError:
                raise ApiError(401, "token_expired", "bearer token has expired") from None
            except jwt.InvalidAudienceError as exc:
                raise ApiError(401, "invalid_token", self.audience_problem(exc)) from None
            except jwt.InvalidTokenError as exc:
                raise ApiError(401, "invalid_token", f"bearer token rejected: {exc}") from None
        raise ApiError(401, "invalid_token", "no secret configured to verify tokens")

    def audience_problem(self, exc: jwt.InvalidAudienceError) -> str:
        if self._audience is None:
            # RFC 7519 4.1.3: a token naming an audience is refused by a service that is
            # not in it; one configured with none is in no audience.
            return "bearer token rejected: it names an audience (`aud`) and none is configured"
        return f"bearer token rejected: {exc}"


def required_claims(settings: Settings) -> tuple[str, ...]:
    """`sub` and `exp` always; `aud` and `iss` when the service is configured with them."""
    optional = (("aud", settings.jwt_audience), ("iss", settings.jwt_issuer))
    return ("sub", "exp", *(claim for claim, setting in optional if setting))


def mint_token(settings: Settings, user_id: str, *, admin: bool = False, ttl_s: int = 3600) -> str:
    """A development/test token signed with the configured secret."""
    now = int(time.time())
    claims: dict[str, object] = {"sub": user_id, "iat": now, "exp": now + ttl_s}
    if admin:
        claims["role"] = ADMIN_ROLE
    return jwt.encode(claims, settings.jwt_secret, algorithm=ALGORITHM)


def bearer_token(request: web.Request) -> str:
    """The request's token: the Authorization header; on the websocket route also the
    `token` query parameter or the subprotocol list (browsers cannot set headers on a
    websocket). Anywhere else a token in those places is refused, not ignored: a URL
    lands in access logs and browser history, so the client must be fixed."""
    elsewhere = websocket_token(request)
    on_socket_route = (
        elsewhere is not None and request.match_info.route.name == WEBSOCKET_ROUTE_NAME
    )
    if elsewhere is not None and not on_socket_route:
        raise ApiError(
            401,
            "token_misplaced",
            "a token goes in the Authorization header (`Authorization: Bearer <token>`); "
            "the `token` query parameter and `Sec-WebSocket-Protocol: bearer, <token>` "
            "are accepted only by GET /api/v1/scans/{id}/ws",
            headers=CHALLENGE,
        )
    scheme, _, token = request.headers.get(hdrs.AUTHORIZATION, "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    if elsewhere:  # on the websocket route
        return elsewhere
    raise ApiError(
        401,
        "unauthorized",
        "missing bearer token (send `Authorization: Bearer <token>`)",
        headers=CHALLENGE,
    )


def websocket_token(request: web.Request) -> str | None:
    """A `token` query parameter, or the subprotocol list `bearer, <token>`."""
    if request.query_string and "token" in request.query:
        return request.query["token"]
    protocols = request.headers.get(hdrs.SEC_WEBSOCKET_PROTOCOL)
    if protocols is None:
        return None
    offered = [p.strip() for p in protocols.split(",")]
    if len(offered) >= 2 and offered[0] == "bearer" and offered[1]:
        return offered[1]
    return None


def metrics_token_matches(request: web.Request, expected: str) -> bool:
    """`Authorization: Bearer <METRICS_TOKEN>`, compared in constant time."""
    scheme, _, token = request.headers.get(hdrs.AUTHORIZATION, "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        token.strip().encode(), expected.encode()
    )


VERIFIER = web.AppKey("token_verifier", TokenVerifier)
PRINCIPAL = web.RequestKey("principal", Principal)


def principal_of(request: web.Request) -> Principal:
    principal: Principal = request[PRINCIPAL]
    return principal


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    path = request.path
    if path in PUBLIC_PATHS or path.startswith("/static/"):
        return await handler(request)
    if path == METRICS_PATH:
        expected = request.config_dict[SETTINGS].metrics_token
        if expected:
            await guarded(request, lambda: check_metrics_token(request, expected))
        return await handler(request)
    verifier = request.config_dict[VERIFIER]
    request[PRINCIPAL] = await guarded(request, lambda: verifier.verify(bearer_token(request)))
    return await handler(request)


async def guarded(request: web.Request, authenticate: Callable[[], T]) -> T:
    """`authenticate()`, unless this client is over its limit of failures (429); a 401
    it raises is counted against the client (and may become that 429)."""
    guard = request.config_dict[AUTH_GUARD]
    guard.refuse_if_blocked(request)
    try:
        return authenticate()
    except ApiError as exc:
        if exc.status == HTTPStatus.UNAUTHORIZED:
            await guard.count_failure(request)
        raise


def check_metrics_token(request: web.Request, expected: str) -> None:
    if not metrics_token_matches(request, expected):
        raise ApiError(
            401,
            "unauthorized",
            "/metrics needs `Authorization: Bearer <METRICS_TOKEN>`",
            headers=CHALLENGE,
        )


@web.middleware
async def admin_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The admin sub-application's own gate: the `admin` role or 403."""
    if not principal_of(request).is_admin:
        raise ApiError(403, "forbidden", "admin role required")
    return await handler(request)
