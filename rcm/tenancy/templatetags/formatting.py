"""Filters that show stored values the way people read them (a builtin: every template has
them): a ZIP+4 with its hyphen, a phone number stored in E.164 in its national format."""

from __future__ import annotations

from django import template

from x12.identifiers import format_phone, format_zip

register = template.Library()


@register.filter
def zip_code(value: str | None) -> str:
    """'972041234' -> '97204-1234'; a five-digit ZIP as it is."""
    return format_zip(value or "")


@register.filter
def phone(value: str | None) -> str:
    """'+15035550100' -> '(503) 555-0100'."""
    return format_phone(value or "")
