"""Outbox topics and the functions that handle them. An app registers its handlers with
`@outbox_handler("topic")` in a module it imports from its AppConfig.ready()."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Handler = Callable[[Any], None]
_HANDLERS: dict[str, Handler] = {}


def outbox_handler(topic: str) -> Callable[[Handler], Handler]:
    def register(func: Handler) -> Handler:
        _HANDLERS[topic] = func
        return func

    return register


def handler_for(topic: str) -> Handler | None:
    return _HANDLERS.get(topic)
