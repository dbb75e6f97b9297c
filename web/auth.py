"""Bearer JWT authentication (HS256): `sub` is the user, `role: admin` opens admin routes.

Verified tokens are cached per process (bounded, and never past their `exp`),
so a status read costs one HMAC verification per token per cache period.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass

import jwt
from aiohttp import web

from config.settings import Settings
from web.errors import ApiError, Handler

ALGORITHM = "HS256"
ADMIN_ROLE = "admin"
# Longest accepted user id (`sub`): it becomes part of Redis key names.
USER_ID_MAX_CHARS = 128
# Distinct tokens remembered per process; the oldest is forgotten first.
TOKEN_CACHE_SIZE = 10_000
PUBLIC_PATHS = frozenset(
    {"/healthz", "/readyz", "/metrics", "/", "/api/v1/dev/token", "/api/v1/openapi.json"}
)


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: str
    is_admin: bool
    valid_until: float  # time.monotonic() after which the cache entry is stale


class TokenVerifier:
    def __init__(self, settings: Settings) -> None:
        self._secret = settings.jwt_secret
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
        try:
            claims = jwt.decode(
                token, self._secret, algorithms=[ALGORITHM], options={"require": ["sub", "exp"]}
            )
        except jwt.ExpiredSignatureError:
            raise ApiError(401, "token_expired", "bearer token has expired") from None
        except jwt.InvalidTokenError as exc:
            raise ApiError(401, "invalid_token", f"bearer token rejected: {exc}") from None
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject or len(subject) > USER_ID_MAX_CHARS:
            raise ApiError(401, "invalid_token", "token `sub` must be a non-empty string")
        remaining_s = float(claims["exp"]) - time.time()
        valid_until = time.monotonic() + min(self._cache_ttl_s, remaining_s)
        return Principal(subject, claims.get("role") == ADMIN_ROLE, valid_until)


def mint_token(settings: Settings, user_id: str, *, admin: bool = False, ttl_s: int = 3600) -> str:
    """A development/test token signed with the configured secret."""
    now = int(time.time())
    claims: dict[str, object] = {"sub": user_id, "iat": now, "exp": now + ttl_s}
    if admin:
        claims["role"] = ADMIN_ROLE
    return jwt.encode(claims, settings.jwt_secret, algorithm=ALGORITHM)


def bearer_token(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    if request.headers.get("Upgrade", "").lower() == "websocket":
        socket_token = websocket_token(request)
        if socket_token:
            return socket_token
    raise ApiError(
        401, "unauthorized", "missing bearer token", headers={"WWW-Authenticate": "Bearer"}
    )


def websocket_token(request: web.Request) -> str | None:
    """Browsers cannot set headers on websockets: a `token` query parameter, or the
    subprotocol list `bearer, <token>`."""
    if request.query.get("token"):
        return request.query["token"]
    offered = [p.strip() for p in request.headers.get("Sec-WebSocket-Protocol", "").split(",")]
    if len(offered) >= 2 and offered[0] == "bearer" and offered[1]:
        return offered[1]
    return None


VERIFIER = web.AppKey("token_verifier", TokenVerifier)
PRINCIPAL = web.RequestKey("principal", Principal)


def principal_of(request: web.Request) -> Principal:
    principal: Principal = request[PRINCIPAL]
    return principal


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path in PUBLIC_PATHS or request.path.startswith("/static/"):
        return await handler(request)
    request[PRINCIPAL] = request.config_dict[VERIFIER].verify(bearer_token(request))
    return await handler(request)


@web.middleware
async def admin_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The admin sub-application's own gate: the `admin` role or 403."""
    if not principal_of(request).is_admin:
        raise ApiError(403, "forbidden", "admin role required")
    return await handler(request)
