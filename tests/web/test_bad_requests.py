"""A request aiohttp cannot parse (an oversized header, invalid characters in one, a
malformed header line) gets a JSON 400 that quotes nothing of it, and is logged by
kind, never by content: a token in the offending header appears nowhere."""

from __future__ import annotations

import asyncio
import logging

import pytest
from structlog.testing import capture_logs

TOKEN = "eyJTOKENMARKERdoNotLeak"
# Well past aiohttp's 8190-byte limit on one header field.
OVERSIZED = 80 * 1024
REQUESTS = {
    "oversized": (
        b"GET /api/v1/scans HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
        + TOKEN.encode()
        + b"A" * OVERSIZED
        + b"\r\n\r\n",
        "header_too_large",
    ),
    "control character": (
        b"GET /api/v1/scans HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
        + TOKEN.encode()
        + b"\x01x\r\n\r\n",
        "malformed_request",
    ),
    "space in name": (
        b"GET /api/v1/scans HTTP/1.1\r\nHost: x\r\nAuthori zation: Bearer "
        + TOKEN.encode()
        + b"\r\n\r\n",
        "malformed_request",
    ),
}


async def raw_exchange(host: str, port: int, request: bytes) -> bytes:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(request)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), timeout=10)
    finally:
        writer.close()
        await writer.wait_closed()


@pytest.mark.parametrize("case", sorted(REQUESTS))
async def test_bad_header_is_answered_and_logged_without_its_token(api, caplog, case) -> None:  # type: ignore[no-untyped-def]
    request, code = REQUESTS[case]
    with capture_logs() as logs, caplog.at_level(logging.DEBUG):
        answer = await raw_exchange(api.server.host, api.server.port, request)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400") or head.startswith(b"HTTP/1.0 400"), head
    assert b"application/json" in head
    assert f'"code":"{code}"'.encode() in body
    assert TOKEN.encode() not in answer and b"Bearer" not in answer
    assert [line["event"] for line in logs] == ["bad_http_request"]
    assert TOKEN not in repr(logs)
    assert TOKEN not in caplog.text
    # aiohttp's own error log (with the parser's message and a traceback) said nothing.
    assert not [record for record in caplog.records if record.name == "aiohttp.server"]
