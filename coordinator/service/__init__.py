"""The per-process service: what runs the actors and answers the web layer.

Here live the process's one coordinator with its periodic duties and work
consumers (``coordinator``), scan creation and the reads and commands the
handlers call (``scans``), the sweeper that adopts scans whose lease lapsed
(``sweeper``), the worker heartbeats behind the admin listing
(``worker_registry``) and the periodic-duty loop (``periodic``).

The top layer of ``coordinator``: it may import ``coordinator.actor``,
``coordinator.store``, ``coordinator.process``, ``coordinator.errors``,
``config`` and ``strategies``; never ``web``.
"""
