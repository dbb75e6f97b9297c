"""The actor core: how one scan is owned, folded, published and run.

Here live the scan's lease with its fencing epoch (``lease``), its mailbox
(``mailbox``), the pure fold of mailbox messages into the scan's state
(``fold``), the fenced publish of each snapshot (``publisher``), the scan actor
that owns a scan while it holds the lease (``scan_actor``) and the strategy
actor that runs one strategy of a scan and reports into its mailbox
(``strategy_actor``, with ``inline_runs`` deciding which runs stay on the loop).

It may import ``coordinator.store``, ``coordinator.process``,
``coordinator.errors``, ``config`` and ``strategies``; never
``coordinator.service`` (which drives the actors) or ``web``.
"""
