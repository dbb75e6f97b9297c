"""Pure trading strategies: market data in, opportunities out.

Nothing here imports from ``coordinator`` or ``web``; the coordinator reaches
strategies only through :mod:`strategies.registry`.
"""
