"""structlog, configured once at the entry point.

JSON lines when stderr is not a terminal, a readable console when it is.
``scan_id``, ``epoch`` and ``worker_id`` come from contextvars, so every line of
a scan's life can be found by its id.
"""

from __future__ import annotations

import logging
import sys

import structlog


def configure_logging(level: str, worker_id: str) -> None:
    renderer: structlog.types.Processor
    if sys.stderr.isatty():
        renderer = structlog.dev.ConsoleRenderer()
    else:
        renderer = structlog.processors.JSONRenderer()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        # One write per line (print() writes the newline separately), so lines
        # of gunicorn workers sharing one stderr never interleave.
        logger_factory=structlog.WriteLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(worker_id=worker_id)
