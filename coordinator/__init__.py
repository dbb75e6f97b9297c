"""The scan runtime: leased scan actors, strategy actors and the sweeper."""
