"""Market-data sources. Each returns the same ccxt-shaped :class:`MarketSnapshot`."""
