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
