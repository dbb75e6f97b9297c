"""Per-user slots for long-lived connections (open websockets, requests held by
`Prefer: wait`), counted in Redis across every worker of the service.

A slot is a member of the user's sorted set for that kind, named after the worker
that holds it and scored by when it lapses. The holder removes it when the
connection ends; while it is open the worker's refresh duty pushes the lapse time
forward on every heartbeat. A worker that dies stops refreshing, so its slots lapse
within `keys.connection_slot_ttl_ms` and the next take drops them: nothing waits on a
dead process to give back what it held.
"""

from __future__ import annotations

import enum
import itertools
from dataclasses import dataclass

from redis.asyncio import Redis

from config.settings import Settings
from coordinator.store import keys
from coordinator.store.scripts import queue_call, run_call
from coordinator.store.scripts.edge import RefreshConnectionSlots, TakeConnectionSlot


class ConnectionKind(enum.StrEnum):
    WEBSOCKET = "ws"
    WAIT = "wait"


@dataclass(frozen=True, slots=True)
class Slot:
    key: str
    member: str


class ConnectionSlots:
    """This process's view of the slots it holds; Redis holds the counts."""

    def __init__(self, redis: Redis, settings: Settings) -> None:
        self._redis = redis
        self._settings = settings
        self._ttl_ms = keys.connection_slot_ttl_ms(settings)
        self._numbers = itertools.count(1)
        self._held: dict[str, set[str]] = {}  # key -> members held by this process

    def limit(self, kind: ConnectionKind) -> int:
        if kind is ConnectionKind.WEBSOCKET:
            return self._settings.ws_per_user_max
        return self._settings.waits_per_user_max

    @property
    def ttl_ms(self) -> int:
        return self._ttl_ms

    async def take(self, kind: ConnectionKind, user_id: str) -> Slot | None:
        """A slot for one more connection of the user's, or None at the limit."""
        key = keys.user_connections(user_id, kind.value)
        member = f"{self._settings.worker_id}#{next(self._numbers)}"
        # Held locally first, so a refresh running meanwhile keeps it alive.
        self._held.setdefault(key, set()).add(member)
        try:
            taken = await run_call(
                self._redis,
                TakeConnectionSlot(
                    connections_key=key, member=member, limit=self.limit(kind), ttl_ms=self._ttl_ms
                ),
            )
        except BaseException:
            self.forget(Slot(key, member))
            raise
        if not taken:
            self.forget(Slot(key, member))
            return None
        return Slot(key, member)

    async def release(self, slot: Slot) -> None:
        """Give the slot back. Forgotten here first: should Redis not answer, the slot
        is no longer refreshed and lapses by itself."""
        self.forget(slot)
        await self._redis.zrem(slot.key, slot.member)

    def forget(self, slot: Slot) -> None:
        members = self._held.get(slot.key)
        if members is None:
            return
        members.discard(slot.member)
        if not members:
            del self._held[slot.key]

    @property
    def held(self) -> int:
        return sum(len(members) for members in self._held.values())

    async def refresh(self) -> None:
        """The periodic duty: every slot this process holds lapses a full TTL from now."""
        if not self._held:
            return
        snapshot = [(key, sorted(members)) for key, members in self._held.items()]
        async with self._redis.pipeline(transaction=False) as pipe:
            for key, members in snapshot:  # a user's keys share one slot; users do not
                queue_call(
                    pipe,
                    RefreshConnectionSlots(
                        connections_key=key, ttl_ms=self._ttl_ms, members=members
                    ),
                )
            await pipe.execute()
