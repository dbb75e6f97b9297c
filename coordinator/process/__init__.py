"""Process utilities: what any process of the service needs, whatever it runs.

Here live the wall clock (``clock``), the Prometheus metrics and their cheap
multiprocess values (``metrics``, ``metric_values``), the event-loop lag probe
(``loop_lag``), the garbage-collector thresholds (``gc_tuning``) and the
embedded ``redis-server`` for development and tests (``embedded_redis``).

The ground floor of ``coordinator``: it may import ``coordinator.errors``,
``config`` and third-party libraries, nothing else of ours (no Redis schema, no
actor, no service).
"""
