"""REDIS_URL as text: shown with its passwords hidden, and the Sentinel form parsed.

Every Redis URL that is printed or logged goes through ``redact`` first: the
password in the userinfo and the value of every query parameter not known to be
harmless become ``***`` (a misspelt `sentinel_pasword=` is still a password).
Written without urllib's parser, which raises on the malformed URLs that most
need a clear (and still redacted) error message.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote

from redis.connection import parse_url

from config.errors import SettingsError

HIDDEN = "***"
# What is shown of a value that is not a URL at all (it may be a bare password).
NOT_A_URL = "(not a URL; hidden)"
# Query parameters whose values are shown; every other value is hidden.
SHOWN_PARAMETERS = frozenset(
    {
        "db",
        "ssl_ca_certs",
        "ssl_cert_reqs",
        "ssl_check_hostname",
        "sentinel_username",
        "socket_timeout",
        "socket_connect_timeout",
        "protocol",
        "client_name",
    }
)
# URL schemes of one Redis, as redis-py reads them.
PLAIN_SCHEMES = frozenset({"redis", "rediss", "unix"})
# URL schemes that name a Cluster, and the plain scheme redis-py parses them as.
CLUSTER_SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}
# URL schemes that name Sentinels, and whether Sentinels and primary speak TLS.
SENTINEL_SCHEMES = {"redis+sentinel": False, "rediss+sentinel": True}
SENTINEL_DEFAULT_PORT = 26379
SENTINEL_FORM = (
    "redis+sentinel://[[user]:password@]host[:port][,host[:port]...]/service[/db]"
    "[?sentinel_password=...&sentinel_username=...&ssl_ca_certs=/path]"
)
# What the query of a Sentinel URL may say (anything else is refused, not ignored).
SENTINEL_QUERY = frozenset({"sentinel_password", "sentinel_username", "ssl_ca_certs"})


def redact_userinfo(userinfo: str) -> str:
    user, colon, _password = userinfo.partition(":")
    # A userinfo without a colon is often a password written in the wrong place.
    return f"{user}:{HIDDEN}" if colon else HIDDEN


def redact_query(query: str) -> str:
    pairs = []
    for pair in query.split("&"):
        name, equals, _value = pair.partition("=")
        pairs.append(f"{name}={HIDDEN}" if equals and name not in SHOWN_PARAMETERS else pair)
    return "&".join(pairs)


def redact(url: str | None) -> str:
    """``url`` with every password replaced by ``***`` (safe to print and log)."""
    if not url:
        return "(none)"
    scheme, separator, rest = url.partition("://")
    if not separator:
        return NOT_A_URL
    end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    authority, tail = rest[:end], rest[end:]
    userinfo, at, hosts = authority.rpartition("@")
    if at:
        authority = f"{redact_userinfo(userinfo)}@{hosts}"
    path, question, query = tail.partition("?")
    if question:
        tail = f"{path}?{redact_query(query)}"
    return f"{scheme}{separator}{authority}{tail}"


@dataclass(frozen=True)
class SentinelUrl:
    """A ``redis+sentinel://`` URL: the userinfo is the primary's, the Sentinels'
    own credentials are query parameters (they often differ: Sentinels are
    configured with `requirepass` of their own)."""

    sentinels: tuple[tuple[str, int], ...]
    service: str
    db: int
    tls: bool
    username: str | None = None
    password: str | None = None
    sentinel_username: str | None = None
    sentinel_password: str | None = None
    ssl_ca_certs: str | None = None


def bad_sentinel_url(url: str, problem: str) -> SettingsError:
    return SettingsError("REDIS_URL", f"{problem} in {redact(url)}; expected {SENTINEL_FORM}")


def parse_sentinel(url: str) -> SentinelUrl:
    scheme, _, rest = url.partition("://")
    location, _, query = rest.partition("?")
    credentials, _, location = location.rpartition("@")
    hosts, _, path = location.partition("/")
    service, _, db = path.strip("/").partition("/")
    if scheme not in SENTINEL_SCHEMES or not hosts or not service or (db and not db.isdigit()):
        raise bad_sentinel_url(url, "no Sentinel host or service name")
    options = dict(parse_qsl(query, keep_blank_values=True))
    unknown = sorted(set(options) - SENTINEL_QUERY)
    if unknown:
        raise bad_sentinel_url(url, f"unknown parameter {', '.join(unknown)}")
    sentinels = []
    for host in hosts.split(","):
        name, _, port = host.partition(":")
        if not name or (port and not port.isdigit()):
            raise bad_sentinel_url(url, f"bad Sentinel address {host!r}")
        sentinels.append((name, int(port) if port else SENTINEL_DEFAULT_PORT))
    username, _, password = credentials.partition(":")
    return SentinelUrl(
        sentinels=tuple(sentinels),
        service=service,
        db=int(db or 0),
        tls=SENTINEL_SCHEMES[scheme],
        username=unquote(username) or None,
        password=unquote(password) or None,
        sentinel_username=options.get("sentinel_username") or None,
        sentinel_password=options.get("sentinel_password") or None,
        ssl_ca_certs=options.get("ssl_ca_certs") or None,
    )


def check(url: str) -> None:
    """Refuse, at startup and with the URL redacted, what no client could connect to
    (rather than a traceback from every worker that tries)."""
    scheme, _, rest = url.partition("://")
    if scheme in SENTINEL_SCHEMES:
        parse_sentinel(url)
        return
    if scheme not in PLAIN_SCHEMES and scheme not in CLUSTER_SCHEMES:
        known = sorted([*PLAIN_SCHEMES, *CLUSTER_SCHEMES, *SENTINEL_SCHEMES])
        raise SettingsError(
            "REDIS_URL", f"{redact(url)} does not start with one of {', '.join(known)} ://"
        )
    try:
        parse_url(f"{CLUSTER_SCHEMES.get(scheme, scheme)}://{rest}")
    except ValueError as exc:  # redis-py names the part, not the credentials
        raise SettingsError("REDIS_URL", f"{redact(url)}: {exc}") from None
