"""`GET /api/v1/strategies/{name}/evaluation`: a strategy's track record, from its
walk-forward evaluation on the data this service serves (the one its
opportunities' evidence comes from): the trades as a cumulative-R curve and the
calibration of its stated probabilities by decile (strategies.evidence.track_record).

Any signed-in user may read it (it says nothing about anyone's scans). A strategy
this service does not know is a 404; one whose evaluation is still being
computed answers 200 with ``status: computing`` and no numbers, never a guess.
The body is the same for one data version, so its digest is a strong ETag.
"""

from __future__ import annotations

import msgspec
from aiohttp import web

from strategies.evidence.track_record import TrackRecord, track_record
from web.charts import CACHE_CONTROL, etag_of, matches
from web.errors import ApiError
from web.keys import COORDINATOR, REGISTRY

encoder = msgspec.json.Encoder()


async def get_evaluation(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    known = request.config_dict[REGISTRY].names()
    if name not in known:
        raise ApiError(
            404, "unknown_strategy", f"no strategy named {name!r}", details={"valid": list(known)}
        )
    found = await request.config_dict[COORDINATOR].evidence.evaluation_of(name)
    if found.evaluation is None:
        record = TrackRecord(strategy=name, status=found.status, note=found.note)
    else:
        record = track_record(found.evaluation)
    body = encoder.encode(record)
    etag = etag_of(body)
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
    if matches(request.headers.get("If-None-Match"), etag):
        return web.Response(status=304, headers=headers)
    return web.Response(body=body, content_type="application/json", headers=headers)
