"""The fourteen strategies of the catalogue, one module per rule.

Each module has a ``NAME``, a frozen ``Params`` dataclass whose defaults are
the rule of the catalogue, and ``run(snapshot, params)`` returning
opportunities. Per-symbol rules also expose ``evaluate`` for one series.
"""
