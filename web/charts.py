"""`GET /api/v1/scans/{id}/candles`: the candles a scan's rules saw for one symbol,
with a strategy's indicators, sized for a chart.

Tenancy is the scan's (another user's scan is the same 404 as an unknown one).
The candles are the scan's own market data: rows at or before its
``market_data_as_of``, never newer. A scan that has no as-of yet (no strategy
has read market data) answers 409 ``market_data_pending``. The body is
deterministic for a scan and a query, so its hash is a strong ETag and a
matching ``If-None-Match`` is a 304.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

import msgspec
from aiohttp import web

from coordinator.process.clock import MS_PER_S
from coordinator.store.codec import snapshot_decoder
from strategies.chart import ChartRequest, chart_of, symbols_needed, validate
from strategies.errors import MarketDataUnavailable, UnknownSymbol
from web.auth import principal_of
from web.errors import ApiError
from web.keys import PROVIDER, REGISTRY, SCANS
from web.requests import int_query
from web.schemas import CandlesEnvelope

# A few hundred bars fill a chart as wide as a screen; more would not be legible.
BARS_DEFAULT, BARS_MIN, BARS_MAX = 300, 10, 500
# The strong validator: a digest of the body, long enough never to collide by chance.
ETAG_DIGEST_BYTES = 16
# The scan is readable by its owner only, and the body may change (a running scan's
# first as-of): a cache must ask again (If-None-Match) every time.
CACHE_CONTROL = "private, no-cache"
encoder = msgspec.json.Encoder()


def chart_request(request: web.Request) -> ChartRequest:
    query = request.query
    symbol = query.get("symbol")
    if not symbol:
        raise ApiError(422, "invalid_symbol", "`symbol` is required, e.g. symbol=BTC/USDT")
    return ChartRequest(
        symbol=symbol,
        timeframe=query.get("timeframe") or None,
        bars=int_query(request, "bars", BARS_DEFAULT, BARS_MIN, BARS_MAX),
        strategy=query.get("strategy") or None,
        versus=query.get("versus") or None,
    )


def etag_of(body: bytes) -> str:
    return f'"{hashlib.blake2b(body, digest_size=ETAG_DIGEST_BYTES).hexdigest()}"'


def matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110: If-None-Match is `*` or a list of entity tags (weak ones compare too)."""
    if if_none_match is None:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or etag in tags


async def get_candles(request: web.Request) -> web.Response:
    scan_id = request.match_info["scan_id"]
    found = await request.config_dict[SCANS].read(scan_id, principal_of(request).user_id)
    wanted = chart_request(request)
    snapshot = snapshot_decoder.decode(found.body)
    validate(wanted, tuple(snapshot.symbols), request.config_dict[REGISTRY].names())
    if snapshot.market_data_as_of is None:
        raise ApiError(
            409,
            "market_data_pending",
            f"scan {scan_id} has read no market data yet (it is {snapshot.status}); "
            "its candles exist once a strategy has run",
        )
    provider = request.config_dict[PROVIDER]
    if snapshot.data_source not in (None, provider.source_name):
        raise ApiError(
            409,
            "market_data_gone",
            f"scan {scan_id} read {snapshot.data_source} data; this service now serves "
            f"{provider.source_name}, so its candles are no longer here",
        )
    as_of_ms = round(datetime.fromisoformat(snapshot.market_data_as_of).timestamp() * MS_PER_S)
    note = None
    try:
        market = await provider.snapshot(symbols_needed(wanted))
        chart = chart_of(market, wanted, as_of_ms)
        candles, indicators, timeframe = chart.candles, chart.indicators, chart.timeframe
    except (MarketDataUnavailable, UnknownSymbol) as exc:
        # The source no longer serves what the scan read (a file since found unusable).
        candles, indicators, timeframe, note = [], [], wanted.timeframe or "1h", str(exc)
    if not candles and note is None:
        note = f"the source holds no {timeframe} candles of {wanted.symbol} at the scan's as-of"
    body = encoder.encode(
        CandlesEnvelope(
            scan_id=scan_id,
            symbol=wanted.symbol,
            timeframe=timeframe,
            strategy=wanted.strategy,
            versus=wanted.versus,
            market_data_as_of=snapshot.market_data_as_of,
            data_source=snapshot.data_source or provider.source_name,
            candles=candles,
            indicators=indicators,
            note=note,
        )
    )
    etag = etag_of(body)
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
    if matches(request.headers.get("If-None-Match"), etag):
        return web.Response(status=304, headers=headers)
    return web.Response(body=body, content_type="application/json", headers=headers)
