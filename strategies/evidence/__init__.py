"""Evidence behind opportunities: each strategy replayed walk-forward on the
history a data source holds, its trades followed to stop, target or horizon
net of costs, and a calibrated probability for a new signal. Pure: market data
in, evaluations out; it knows nothing of Redis or HTTP."""
