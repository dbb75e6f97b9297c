"""Scenario 12: the websocket gateway's pub/sub connections are killed while
clients follow a scan on real workers; every client still ends on the terminal
snapshot, never seeing a version go back."""

from __future__ import annotations

import asyncio

import pytest

from coordinator.store.redis_client import connect
from tests.chaos.harness import follow_websocket
from tests.chaos.scenario import FOLLOW_TIMEOUT_S, Run
from tests.integration.service import Service

pytestmark = pytest.mark.processes

# Sockets per scan: with three workers, several land on each of them.
SOCKETS = 6
STRATEGIES = ["noop", "sleep_500ms", "sleep_2s"]


async def test_s12_killed_pubsub_connections_still_end_every_socket_on_the_terminal_snapshot(
    fault_service: Service,
) -> None:
    run = Run(fault_service, "s12-feed")
    redis = connect(fault_service.redis_url)
    try:
        await run.start(STRATEGIES, wait_for_report=False)
        sockets = [
            asyncio.ensure_future(
                follow_websocket(
                    fault_service.base_url,
                    run.history,
                    f"ws-{n}",
                    run.user,
                    run.scan_id,
                    FOLLOW_TIMEOUT_S,
                )
            )
            for n in range(SOCKETS)
        ]
        await run.running_with_a_report()
        killed = await redis.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
        assert killed >= 1, "no pub/sub connection to kill"
        finals = await asyncio.gather(*sockets)
        final = await run.finish()
    finally:
        await run.close()
        await redis.aclose()
    assert {(f["status"], f["version"]) for f in finals} == {(final["status"], final["version"])}
    noticed = fault_service.log_lines("feed_resubscribed") + fault_service.log_lines(
        "feed_reconnect"
    )
    assert noticed, "no feed hub noticed its pub/sub connection was killed (so never re-read)"
    lag_s = terminal_lag_s(run, final)
    print(
        f"\nS12 pub/sub killed ({killed} connections): {SOCKETS} sockets ended on "
        f"{final['status']} v{final['version']}, at most {lag_s:.2f} s after the REST poller"
    )


def terminal_lag_s(run: Run, final: dict) -> float:  # type: ignore[type-arg]
    """How much later than the poller the slowest socket saw the terminal snapshot."""
    first_seen: dict[str, float] = {}
    for seen in run.history.observations:
        if seen.version == final["version"]:
            first_seen.setdefault(seen.reader, seen.mono)
    poller = first_seen[f"{run.user}-poller"]
    return max(mono - poller for reader, mono in first_seen.items() if reader.startswith("ws-"))
