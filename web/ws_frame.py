"""A snapshot as the websocket frame that carries it (RFC 6455, section 5.2).

A server's frames are never masked, so one frame's bytes serve every socket following
the scan: the feed builds them once per worker and snapshot, and writes them as they
are to each socket that can take them at once (web/websocket.FeedSocket).
"""

from __future__ import annotations

import struct

# FIN set (the message is this one frame), opcode 1: text (the snapshot is UTF-8 JSON).
FINAL_TEXT_FRAME = 0x81
# Payload lengths up to this fit the header's 7-bit field; 126 and 127 say that a
# 16-bit or a 64-bit length follows.
SEVEN_BIT_LENGTH_MAX = 125
SIXTEEN_BIT_LENGTH_MAX = 0xFFFF
SIXTEEN_BIT_LENGTH_FOLLOWS = 126
SIXTY_FOUR_BIT_LENGTH_FOLLOWS = 127


def text_frame(payload: bytes) -> bytes:
    """The unmasked, unfragmented text frame whose payload is `payload`."""
    size = len(payload)
    if size <= SEVEN_BIT_LENGTH_MAX:
        header = struct.pack("!BB", FINAL_TEXT_FRAME, size)
    elif size <= SIXTEEN_BIT_LENGTH_MAX:
        header = struct.pack("!BBH", FINAL_TEXT_FRAME, SIXTEEN_BIT_LENGTH_FOLLOWS, size)
    else:
        header = struct.pack("!BBQ", FINAL_TEXT_FRAME, SIXTY_FOUR_BIT_LENGTH_FOLLOWS, size)
    return header + payload
