"""Rasa's Redis lock store with atomic ticket operations, for several Rasa replicas over one Redis.

Rasa 3.6's RedisLockStore issues, returns and deletes tickets as read-modify-write sequences (GET, change,
SET). One Rasa process runs them without an await in between, but two replicas interleave: both issue the
same ticket number, or one deletes the lock while the other has just queued on it — then both process a
message of the same sender at once (one tracker update is lost) or the waiter fails with LockError.
Measured: 10 concurrent messages of one sender over two replicas stored 5. Here each of those sequences is
one Redis transaction (WATCH/MULTI, retried on conflict).

endpoints (deploy/render.py writes them):  lock_store: {type: bot.lock_store.AtomicRedisLockStore, url, port, db}
"""
from __future__ import annotations

import json
from typing import Any, Callable, Optional, Text, Tuple

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

KEEP, SAVE, DELETE = "keep", "save", "delete"
Change = Callable[[Optional[TicketLock]], Tuple[str, Optional[TicketLock], Any]]


class AtomicRedisLockStore(RedisLockStore):
    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, **kwargs: Any) -> None:
        if endpoint_config is not None:  # loaded by class path from endpoints.yml
            kwargs = {"host": endpoint_config.url, **endpoint_config.kwargs, **kwargs}
        super().__init__(**kwargs)

    def _atomically(self, conversation_id: Text, change: Change) -> Any:
        key = self.key_prefix + conversation_id

        def attempt(pipe) -> Any:
            raw = pipe.get(key)
            action, lock, result = change(TicketLock.from_dict(json.loads(raw)) if raw else None)
            pipe.multi()
            if action == SAVE:
                pipe.set(key, lock.dumps())
            elif action == DELETE:
                pipe.delete(key)
            return result

        return self.red.transaction(attempt, key, value_from_callable=True)

    def issue_ticket(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME) -> int:
        def issue(lock: Optional[TicketLock]):
            lock = lock or TicketLock(conversation_id)
            return SAVE, lock, lock.issue_ticket(lock_lifetime)
        return self._atomically(conversation_id, issue)

    def update_lock(self, conversation_id: Text) -> None:
        def drop_expired(lock: Optional[TicketLock]):
            if lock is None:
                return KEEP, None, None
            lock.remove_expired_tickets()
            return SAVE, lock, None
        self._atomically(conversation_id, drop_expired)

    def finish_serving(self, conversation_id: Text, ticket_number: int) -> None:
        self.cleanup(conversation_id, ticket_number)

    def cleanup(self, conversation_id: Text, ticket_number: int) -> None:
        """Return the ticket; delete the lock only if nobody queued on it meanwhile."""
        def release(lock: Optional[TicketLock]):
            if lock is None:
                return KEEP, None, None
            lock.remove_ticket_for(ticket_number)
            return (SAVE if lock.is_someone_waiting() else DELETE), lock, None
        self._atomically(conversation_id, release)
