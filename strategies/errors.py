"""Errors raised by the strategy layer, each carrying what a caller needs."""


class StrategyError(Exception):
    """Base class of strategy-layer errors."""


class UnknownStrategy(StrategyError):
    def __init__(self, names: list[str], valid: tuple[str, ...]) -> None:
        self.names = names
        self.valid = valid
        super().__init__(f"unknown strategies {names}; valid: {', '.join(valid)}")


class UnknownSymbol(StrategyError):
    def __init__(self, symbols: list[str], valid: tuple[str, ...]) -> None:
        self.symbols = symbols
        self.valid = valid
        super().__init__(f"unknown symbols {symbols}; valid: {', '.join(valid)}")


class DiagnosticFailure(StrategyError):
    """Raised on purpose by the diagnostic ``explode`` strategy."""


class UnknownSource(StrategyError):
    def __init__(self, source: str, valid: tuple[str, ...]) -> None:
        self.source = source
        self.valid = valid
        super().__init__(f"unknown market-data source {source!r}; valid: {', '.join(valid)}")


class MissingDependency(StrategyError):
    """An optional package a configured source needs is not installed."""

    def __init__(self, package: str, needed_for: str, hint: str) -> None:
        self.package = package
        self.needed_for = needed_for
        super().__init__(
            f"{needed_for} needs the {package!r} package, which is not installed; {hint}"
        )


class MarketDataUnavailable(StrategyError):
    """A source could not produce data (missing directory, unreadable file, no bars)."""

    def __init__(self, source: str, reason: str) -> None:
        self.source = source
        self.reason = reason
        super().__init__(f"market data source {source!r}: {reason}")


class ChartRequestInvalid(StrategyError):
    """A chart asked for what the scan does not hold (a symbol it did not read, an
    unknown timeframe or strategy); ``valid`` lists what it may ask for instead."""

    def __init__(self, field: str, reason: str, valid: tuple[str, ...]) -> None:
        self.field = field
        self.reason = reason
        self.valid = valid
        super().__init__(reason)


class ChartSymbolUnknown(StrategyError):
    """A chart named a symbol the scan did not read: it holds no candles of it."""

    def __init__(self, field: str, symbol: str, valid: tuple[str, ...]) -> None:
        self.field = field
        self.symbol = symbol
        self.valid = valid
        super().__init__(f"the scan holds no candles of {symbol}: it read {', '.join(valid)}")


class LevelsUnexplained(StrategyError):
    """An opportunity without a stop or a target must say why (its levels_note)."""

    def __init__(self, strategy: str, symbol: str) -> None:
        self.strategy = strategy
        self.symbol = symbol
        super().__init__(
            f"{strategy} on {symbol}: an opportunity without a stop or target needs a levels_note"
        )
