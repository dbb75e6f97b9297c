"""Requests aiohttp cannot parse (an oversized or malformed header, a bad request
line) get a JSON 400 that quotes nothing of the request, and one log line that
names the kind of problem and the client, never the bytes.

aiohttp answers these itself, before any middleware runs: its connection protocol
(`RequestHandler.handle_error`) puts the parser's message in the body and logs it
with a traceback, and that message quotes the offending line, an Authorization
header's token included. Its Server builds its protocol from the name
`web_server.RequestHandler`, so pointing that name at a subclass is the one place to
change both answers; everything else about the protocol stays aiohttp's.
"""

from __future__ import annotations

import structlog
from aiohttp import web, web_server
from aiohttp.http_exceptions import HttpProcessingError, LineTooLong
from aiohttp.web_request import BaseRequest

from web.errors import ApiError, error_response

log = structlog.get_logger(__name__)


class RedactingRequestHandler(web.RequestHandler):
    __slots__ = ()

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if not isinstance(exc, HttpProcessingError):  # a handler's failure: aiohttp's way
            return super().handle_error(request, status, exc, message)
        log.warning(
            "bad_http_request", status=status, problem=type(exc).__name__, client=request.remote
        )
        if request.writer.output_size > 0:  # as aiohttp: nothing more can be sent
            raise ConnectionError("response already started; cannot answer the bad request")
        response = error_response(answer_to(exc, status))
        response.force_close()
        return response


def answer_to(exc: HttpProcessingError, status: int) -> ApiError:
    if isinstance(exc, LineTooLong):
        return ApiError(status, "header_too_large", "a request header or line is too long")
    return ApiError(status, "malformed_request", "the request is not valid HTTP/1.1")


def install() -> None:
    """Make every aiohttp Server of this process answer unparseable requests as above."""
    web_server.RequestHandler = RedactingRequestHandler  # type: ignore[attr-defined]
