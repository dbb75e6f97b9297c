"""Evaluations computed in a child process, for a worker that must not stall.

The parent sends nothing but the settings and names: the child builds the
configured source itself, takes the full snapshot, checks that its data
version is the one asked for, and sends back each strategy's evaluation as soon
as it is done; the parent encodes and stores it (see coordinator.service.evidence).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection

import msgspec

from config.settings import Settings
from strategies.evidence.fingerprint import fingerprint
from strategies.evidence.records import Evaluation
from strategies.evidence.walk_forward import Config, evaluate
from strategies.market_data import MarketDataProvider
from strategies.providers import configured_provider
from strategies.registry import build_registry

# Trades kept per stored evaluation (the most recent): about 130 KB of MessagePack
# at the cap, enough for a track-record view of the last months of a busy rule.
TRADES_KEPT = 2000
# The child yields the CPU to the workers' event loops: evidence can wait, requests not.
CHILD_NICENESS = 10


def config_of(settings: Settings) -> Config:
    return Config(
        stride_bars=settings.evidence_stride_bars,
        slippage_bps=settings.slippage_bps,
        trades_kept=TRADES_KEPT,
    )


@dataclass(frozen=True, slots=True)
class Computed:
    """One strategy's evaluation, or why there is none."""

    strategy: str
    data_version: str
    fingerprint: str
    evaluation: Evaluation | None
    error: str | None = None


def evaluations(
    settings: Settings, names: Sequence[str], provider: MarketDataProvider | None = None
) -> Iterator[Computed]:
    """Evaluate ``names`` on the configured source's full history, one at a time."""
    # No simulated exchange latency: the replay fetches once, then only computes.
    provider = provider or configured_provider(
        msgspec.structs.replace(settings, market_data_latency_ms=0)
    )
    registry = build_registry(include_diagnostic=False)
    config = config_of(settings)
    version = provider.data_version()
    snapshot = asyncio.run(provider.snapshot(provider.symbols()))
    for name in names:
        spec = registry.get(name)
        printed = fingerprint(spec, config)
        try:
            evaluation = evaluate(
                name, spec.run, snapshot, config, data_version=version, fingerprint=printed
            )
        except Exception as exc:  # reported to the parent, stored as unavailable
            yield Computed(name, version, printed, None, f"{type(exc).__name__}: {exc}")
            continue
        yield Computed(name, version, printed, evaluation)


def run_child(connection: Connection, settings: Settings, names: list[str]) -> None:
    """The child process's entry point: send each Computed, then None when done."""
    os.nice(CHILD_NICENESS)
    try:
        for computed in evaluations(settings, names):
            connection.send(computed)
        connection.send(None)
    except (BrokenPipeError, EOFError):
        pass  # the parent is gone: nobody wants the rest
    finally:
        connection.close()
