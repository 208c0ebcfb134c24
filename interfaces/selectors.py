"""Reads for the HL7 exceptions queue, narrowed by the 42 CFR Part 2 layer."""

from __future__ import annotations

from collections.abc import Collection

from django.db.models import QuerySet

from interfaces.models import HeldMessage
from rcm import part2


def held_list(*, status: str, scopes: Collection[str]) -> QuerySet[HeldMessage]:
    """Held messages, newest first (one query for a page: the message rides along)."""
    qs = HeldMessage.objects.select_related("message", "resolved_by").order_by("-created_at", "-pk")
    if status:
        qs = qs.filter(status=status)
    return part2.visible(qs, scopes)


def held_hidden(*, status: str, scopes: Collection[str]) -> int:
    qs = HeldMessage.objects.all()
    if status:
        qs = qs.filter(status=status)
    return part2.hidden_count(qs, scopes)
