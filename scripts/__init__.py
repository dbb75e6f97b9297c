"""One-off generators whose output is committed (run as ``python -m scripts.<name>``)."""
