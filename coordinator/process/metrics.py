"""Prometheus metrics of the scan runtime.

Under gunicorn these run in prometheus-client's multiprocess mode (see
config/gunicorn.py): every worker writes its own files and `/metrics` merges
them, so a scrape that lands on any worker sees the whole service.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from coordinator.process import metric_values

metric_values.install()  # before the first metric below

# Buckets of whole-scan durations: from a fast no-op scan to the default deadline.
SCAN_SECONDS_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 150, 300)
# Buckets of one strategy run: sub-millisecond pure functions to slow fetches.
STRATEGY_SECONDS_BUCKETS = (0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 30)

# Buckets of event-loop lag: from unnoticeable to a lease-threatening stall.
LOOP_LAG_SECONDS_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)

SCANS_STARTED = Counter("oppscan_scans_started_total", "Scans created")
SCANS_FINISHED = Counter(
    "oppscan_scans_finished_total", "Scans that reached a terminal state", ["status"]
)
SCAN_DURATION = Histogram(
    "oppscan_scan_duration_seconds", "Creation to terminal state", buckets=SCAN_SECONDS_BUCKETS
)
STRATEGY_DURATION = Histogram(
    "oppscan_strategy_duration_seconds",
    "One strategy run",
    ["strategy"],
    buckets=STRATEGY_SECONDS_BUCKETS,
)
TAKEOVERS = Counter("oppscan_takeovers_total", "Leases acquired at an epoch above 1")
FENCED_WRITES = Counter("oppscan_fenced_writes_total", "Publishes rejected by fencing", ["reason"])
RECLAIMED_TASKS = Counter(
    "oppscan_reclaimed_tasks_total", "Strategy tasks reclaimed from dead consumers"
)
ACTIVE_SCANS = Gauge(
    "oppscan_active_scans", "Scans owned by live workers", multiprocess_mode="livesum"
)
LOOP_LAG = Histogram(
    "oppscan_event_loop_lag_seconds",
    "How late the event loop ran a probe that was due (see coordinator.process.loop_lag)",
    buckets=LOOP_LAG_SECONDS_BUCKETS,
)
