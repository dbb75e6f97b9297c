"""One run of one workload against one system, inside that system's interpreter:

    python -m bench.drive SYSTEM WORKLOAD '{"param": ...}'

Prints one JSON line (bench.stats.emit). The runner (bench/run.py) starts the
processes under test and calls this once per round.
"""

from __future__ import annotations

import importlib
import json
import sys
from typing import Any

import uvloop

from bench.stats import emit

CLIENTS = {
    "oppscan": "bench.adapters.oppscan:OppscanClient",
    "arq": "bench.adapters.arq_peer:PeerClient",
    "saq": "bench.adapters.saq_peer:PeerClient",
    "celery": "bench.adapters.celery_peer:PeerClient",
}


def make_client(system: str) -> Any:
    module, _, name = CLIENTS[system].partition(":")
    return getattr(importlib.import_module(module), name)()


async def run(system: str, workload: str, params: dict[str, Any]) -> dict[str, object]:
    params = {**params, "system": system}
    client = make_client(system)
    if "follow_by" in params:  # Opportunity Scanner's throughput: how a scan's end is seen
        client.follow_by = params["follow_by"]
    await client.open()
    try:
        # Imported per workload: the peers' virtualenvs lack the service's packages.
        if workload == "throughput":
            from bench.workloads import throughput

            return await throughput.drive(client, params)
        if workload.startswith("visibility"):
            from bench.workloads import visibility
        if workload == "visibility":
            return await visibility.drive(client, params)
        if workload == "visibility_reader":
            return await visibility.read(client, params)
        if workload == "takeover":
            from bench.workloads import takeover

            if system == "oppscan":
                return await takeover.drive_oppscan(client, params)
            return await takeover.drive_peer(client, params)
        if workload == "fanout":
            from bench.workloads import fanout

            return await fanout.drive(client, params)
        if workload == "scale":
            from bench.workloads import scale

            return await scale.drive(client, params)
        if workload == "hold":
            return {"job_id": await client.hold()}
        raise SystemExit(f"unknown workload {workload}")
    finally:
        await client.close()


def main() -> None:
    system, workload = sys.argv[1], sys.argv[2]
    params = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
    # Every driver on the service's event loop, whichever system it drives.
    result = uvloop.run(run(system, workload, params))
    emit({"system": system, "workload": workload, **result})


if __name__ == "__main__":
    main()
