"""Write docs/benchmarks.md's tables again from one or more runs' JSON lines:

    python -m bench.rerender bench/results/run-A.jsonl bench/results/run-B.jsonl

Each workload's rows come from the last file named that has any, so a workload run
again on its own (``BENCH_WORKLOADS=throughput make bench``) replaces that workload's
tables and keeps the others' from the full run.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from bench import report


def read_run(path: Path) -> tuple[list[report.Row], dict[str, object]]:
    rows: list[report.Row] = []
    meta: dict[str, object] = {}
    for line in path.read_text().splitlines():
        record = json.loads(line)
        if "meta" in record:
            meta = record["meta"]
        else:
            rows.append(record)
    if not meta:
        raise SystemExit(f"{path}: no meta line (the run did not finish)")
    return rows, meta


def combine(paths: list[Path]) -> tuple[list[report.Row], dict[str, object]]:
    by_workload: dict[str, list[report.Row]] = {}
    metas = []
    for path in paths:
        rows, meta = read_run(path)
        metas.append(meta)
        workloads = {str(row["workload"]) for row in rows}
        for workload in workloads:  # a later run replaces an earlier one's workload
            by_workload[workload] = [row for row in rows if row["workload"] == workload]
    meta = {
        "started": min(float(m["started"]) for m in metas),  # type: ignore[arg-type]
        "duration_s": round(sum(float(m["duration_s"]) for m in metas), 1),  # type: ignore[arg-type]
        "rounds": max(int(m["rounds"]) for m in metas),  # type: ignore[call-overload]
        "load_samples": [s for m in metas for s in m.get("load_samples") or []],  # type: ignore[attr-defined]
        "results": "`, `".join(str(m["results"]) for m in metas),
    }
    return [row for rows in by_workload.values() for row in rows], meta


def main() -> None:
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    rows, meta = combine([Path(arg) for arg in sys.argv[1:]])
    report.write(rows, meta)
    print(f"tables of {len(sys.argv) - 1} run(s) written to {report.DOC}")


if __name__ == "__main__":
    main()
