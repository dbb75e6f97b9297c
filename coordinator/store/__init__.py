"""The Redis store: the schema of everything the service keeps in Redis.

Here live every key name and TTL (``keys``) and the Lua scripts with the typed
functions that call them (``scripts``), the stored records and their codecs
(``records``, ``codec``), the client factory and automatic pipelining
(``redis_client``, ``autopipe``), the generation marker (``generation``), the
shared strategy work streams (``work``) and the admin view of live leases
(``lease_listing``).

It may import ``coordinator.process``, ``coordinator.errors``, ``config`` and
``strategies`` (records hold opportunities); never ``coordinator.actor`` or
``coordinator.service``.
"""
