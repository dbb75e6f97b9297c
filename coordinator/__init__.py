"""The scan runtime: leased scan actors, strategy actors and the sweeper.

Four layers, each importing only those below it (tests/test_layering.py checks):

- ``service``: the per-process coordinator, scan creation and reads for the web
  layer, the sweeper, worker heartbeats;
- ``actor``: lease, mailbox, fold, fenced publish, the scan and strategy actors;
- ``store``: the Redis schema: keys, TTLs, Lua scripts, records, codecs, client,
  auto-pipeline, generation marker, work streams;
- ``process``: clock, metrics, event-loop lag, GC thresholds, embedded redis-server.

``errors`` is the ground every layer may import. ``worker`` and ``recover`` are
the two commands an operator types (``python -m coordinator.worker``,
``python -m coordinator.recover``): entry points above the service.
"""
