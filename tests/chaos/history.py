"""A chaos run's history: what clients did and saw, and what owners wrote.

Clients log each operation as invoke then ok, fail or unknown (a lost reply);
readers log every snapshot they see. Owner write attempts happen inside the
worker processes, so they are read back from the workers' JSON log lines
(``snapshot_publish``, ``report_appended``). At the end of a run each scan's
final snapshot and lifecycle are read once (``ScanOutcome``). ``checker.check``
judges the whole history.

Times are ``time.monotonic()``: one clock for every process on this machine.
"""

from __future__ import annotations

import itertools
import json
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

INVOKE, OK, FAIL, UNKNOWN = "invoke", "ok", "fail", "unknown"
TERMINAL = frozenset({"completed", "partial", "failed", "cancelled"})
ACCEPTED = "accepted"


@dataclass(frozen=True, slots=True)
class ClientOp:
    client: str
    op: str  # create, read, cancel, follow
    op_id: int
    phase: str  # invoke, ok, fail, unknown
    mono: float
    scan_id: str | None = None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Observation:
    """One read of a scan by one reader (a REST poller or a websocket)."""

    reader: str
    scan_id: str
    mono: float
    http_status: int
    version: int | None = None
    status: str | None = None
    completed: int | None = None
    total: int | None = None


@dataclass(frozen=True, slots=True)
class OwnerWrite:
    scan_id: str
    worker: str
    epoch: int
    outcome: str  # accepted, fenced, self_fenced, unknown
    sent_mono: float
    reply_mono: float
    status: str
    version: int | None = None


@dataclass(frozen=True, slots=True)
class ReportAck:
    """A report whose append to the scan's mailbox was acknowledged."""

    scan_id: str
    strategy: str
    attempt: int
    report_id: str
    worker: str


@dataclass(frozen=True, slots=True)
class ScanOutcome:
    """A scan as read once at the end of the run."""

    scan_id: str
    status: str
    version: int
    # strategy -> (status, attempt) in the final snapshot
    strategies: dict[str, tuple[str, int]]
    # strategy -> how many `strategy_finished` events its lifecycle holds
    finished_events: dict[str, int]
    # how many `finished` (terminal) events the lifecycle holds
    terminal_events: int


@dataclass
class History:
    ops: list[ClientOp] = field(default_factory=list)
    observations: list[Observation] = field(default_factory=list)
    writes: list[OwnerWrite] = field(default_factory=list)
    acks: list[ReportAck] = field(default_factory=list)
    outcomes: dict[str, ScanOutcome] = field(default_factory=dict)
    # (reader, scan_id) pairs that follow the scan to its end, so must end on its terminal state
    followers: set[tuple[str, str]] = field(default_factory=set)
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    # ---- client operations ----

    def invoke(self, client: str, op: str, scan_id: str | None = None) -> int:
        op_id = next(self._ids)
        self.ops.append(ClientOp(client, op, op_id, INVOKE, time.monotonic(), scan_id))
        return op_id

    def complete(
        self,
        client: str,
        op: str,
        op_id: int,
        phase: str,
        scan_id: str | None = None,
        detail: str = "",
    ) -> None:
        self.ops.append(ClientOp(client, op, op_id, phase, time.monotonic(), scan_id, detail))

    def handed_out(self) -> set[str]:
        """Scan ids a create returned to a client."""
        return {
            op.scan_id for op in self.ops if op.op == "create" and op.phase == OK and op.scan_id
        }

    def phases(self) -> Counter[str]:
        return Counter(op.phase for op in self.ops if op.phase != INVOKE)

    # ---- readers ----

    def follows(self, reader: str, scan_id: str) -> None:
        self.followers.add((reader, scan_id))

    def observe(self, reader: str, scan_id: str, http_status: int, body: dict | None) -> None:  # type: ignore[type-arg]
        if http_status == 200 and body is not None:
            progress = body["progress"]
            self.observations.append(
                Observation(
                    reader,
                    scan_id,
                    time.monotonic(),
                    http_status,
                    body["version"],
                    body["status"],
                    progress["strategies_completed"],
                    progress["total_strategies"],
                )
            )
        else:
            self.observations.append(Observation(reader, scan_id, time.monotonic(), http_status))

    # ---- owner writes and report acknowledgements, from worker logs ----

    def add_log_lines(self, lines: Iterable[dict]) -> None:  # type: ignore[type-arg]
        for line in lines:
            event = line.get("event")
            if event == "snapshot_publish":
                self.writes.append(owner_write_of(line))
            elif event == "report_appended" and line.get("entry"):
                self.acks.append(
                    ReportAck(
                        str(line["scan_id"]),
                        str(line["strategy"]),
                        int(line["attempt"]),
                        str(line["report_id"]),
                        str(line.get("worker_id")),
                    )
                )

    def add_log_files(self, paths: Iterable[Path]) -> None:
        for path in paths:
            self.add_log_lines(json_lines(path))

    def writes_of(self, scan_id: str) -> list[OwnerWrite]:
        return [write for write in self.writes if write.scan_id == scan_id]

    # ---- the end of the run ----

    def add_outcome(self, snapshot: dict, lifecycle: list[dict]) -> None:  # type: ignore[type-arg]
        finished: Counter[str] = Counter(
            event["strategy"] for event in lifecycle if event["event"] == "strategy_finished"
        )
        self.outcomes[snapshot["scan_id"]] = ScanOutcome(
            scan_id=snapshot["scan_id"],
            status=snapshot["status"],
            version=snapshot["version"],
            strategies={
                item["name"]: (item["status"], item["attempt"]) for item in snapshot["strategies"]
            },
            finished_events=dict(finished),
            terminal_events=sum(1 for event in lifecycle if event["event"] == "finished"),
        )


def owner_write_of(line: dict) -> OwnerWrite:  # type: ignore[type-arg]
    version = line.get("version")
    return OwnerWrite(
        scan_id=str(line["scan_id"]),
        worker=str(line.get("worker_id")),
        epoch=int(line["epoch"]),
        outcome=str(line["outcome"]),
        sent_mono=float(line["sent_mono"]),
        reply_mono=float(line["reply_mono"]),
        status=str(line["status"]),
        version=int(version) if version is not None else None,
    )


def json_lines(path: Path) -> list[dict]:  # type: ignore[type-arg]
    """The JSON log lines of a worker log (gunicorn's own lines are plain text)."""
    found = []
    for raw in path.read_text(errors="replace").splitlines():
        if not raw.startswith("{"):
            continue
        try:
            found.append(json.loads(raw))
        except ValueError:
            continue  # a line cut short by kill -9
    return found
