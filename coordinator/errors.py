"""Errors of the scan runtime; each carries the data needed to act on it."""

from __future__ import annotations


class CoordinatorError(Exception):
    """Base class of runtime errors."""


class LeaseLost(CoordinatorError):
    """This process no longer owns the scan: renewal or a fenced write failed."""

    def __init__(self, scan_id: str, epoch: int, reason: str) -> None:
        self.scan_id = scan_id
        self.epoch = epoch
        self.reason = reason
        super().__init__(f"lease on scan {scan_id} at epoch {epoch} lost: {reason}")


class ScanNotFound(CoordinatorError):
    def __init__(self, scan_id: str) -> None:
        self.scan_id = scan_id
        super().__init__(f"scan {scan_id} not found")


class ScanExpired(CoordinatorError):
    """The scan existed and its retention has ended; only its tombstone is left."""

    def __init__(self, scan_id: str, status: str, finished_at: str) -> None:
        self.scan_id = scan_id
        self.status = status
        self.finished_at = finished_at
        super().__init__(f"scan {scan_id} expired (it ended {status} at {finished_at})")


class GenerationLost(CoordinatorError):
    """Redis lost its data (the generation marker is gone or changed): fail closed."""

    def __init__(self, expected: str | None, found: str | None) -> None:
        self.expected = expected
        self.found = found
        super().__init__(
            f"Redis generation marker expected {expected!r}, found {found!r}: Redis lost its "
            "data; refusing to serve until an operator runs `python -m coordinator.recover`"
        )


class TooManyScans(CoordinatorError):
    """The user started as many scans as one rate window allows."""

    def __init__(self, user_id: str, limit: int, window_s: int, retry_after_ms: int) -> None:
        self.retry_after_ms = retry_after_ms
        super().__init__(
            f"user {user_id} started {limit} scans in the last {window_s} s, the most allowed; "
            f"retry in {retry_after_ms / 1000:.1f} s"
        )


class InvalidScanRequest(CoordinatorError):
    """A scan request names something that does not exist or breaks a limit."""

    def __init__(self, field: str, message: str, valid: tuple[str, ...] = ()) -> None:
        self.field = field
        self.valid = valid
        super().__init__(message)
