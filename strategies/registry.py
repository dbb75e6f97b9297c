"""The catalogue of strategies the coordinator may run, by name."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from strategies.errors import UnknownStrategy
from strategies.findings import Findings
from strategies.market_data import MarketSnapshot

# A strategy: one snapshot in, its findings out (opportunities, what it looked at,
# why it skipped the rest). Pure: the evidence work calls it on past snapshots too.
StrategyFn = Callable[[MarketSnapshot], Findings]


@dataclass(frozen=True, slots=True)
class StrategySpec:
    name: str
    description: str
    run: StrategyFn
    # Wall-clock budget of one run; a strategy past it is reported timed_out.
    timeout_s: float = 20.0


class Registry:
    """An immutable name -> spec mapping, built once per process."""

    def __init__(self, specs: Iterable[StrategySpec], defaults: Sequence[str] = ()) -> None:
        self._specs = {spec.name: spec for spec in specs}
        self._defaults = tuple(defaults) or tuple(self._specs)

    def defaults(self) -> tuple[str, ...]:
        """What a scan runs when its request names no strategies."""
        return self._defaults

    def names(self) -> tuple[str, ...]:
        return tuple(self._specs)

    def get(self, name: str) -> StrategySpec:
        try:
            return self._specs[name]
        except KeyError:
            raise UnknownStrategy([name], self.names()) from None

    def validate(self, names: Sequence[str]) -> tuple[str, ...]:
        """Return ``names`` de-duplicated in order, or raise listing the unknown ones."""
        unknown = [name for name in names if name not in self._specs]
        if unknown:
            raise UnknownStrategy(unknown, self.names())
        return tuple(dict.fromkeys(names))


def build_registry(*, include_diagnostic: bool) -> Registry:
    """The production catalogue, plus the diagnostic strategies tests and benchmarks use."""
    from strategies.catalog import CATALOG
    from strategies.diagnostic import DIAGNOSTIC

    specs = list(CATALOG)
    if include_diagnostic:
        specs.extend(DIAGNOSTIC)
    return Registry(specs, defaults=[spec.name for spec in CATALOG])
