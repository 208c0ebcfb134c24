"""Who is acting and from where, for the audit trail: set once per request by middleware."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Actor:
    user_id: uuid.UUID | None = None
    label: str = ""
    role: str = ""
    api_key_id: uuid.UUID | None = None
    request_id: str = ""
    ip_address: str | None = None
    user_agent: str = ""


SYSTEM = Actor(label="system")

_actor: ContextVar[Actor] = ContextVar("parity_audit_actor", default=SYSTEM)


def current_actor() -> Actor:
    return _actor.get()


def update_actor(**changes: object) -> None:
    """Refine the current request's actor (the tenant middleware adds the role or the API key)."""
    _actor.set(replace(_actor.get(), **changes))  # type: ignore[arg-type]


@contextmanager
def acting_as(actor: Actor) -> Iterator[Actor]:
    token = _actor.set(actor)
    try:
        yield actor
    finally:
        _actor.reset(token)
