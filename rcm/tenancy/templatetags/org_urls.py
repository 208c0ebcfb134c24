"""`{% org_url 'name' arg=... %}`: reverse a page of the current organization."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

register = template.Library()


def org_reverse(request: Any, name: str, **kwargs: Any) -> str:
    return reverse(name, kwargs={"org_slug": request.organization.slug, **kwargs})


@register.simple_tag(takes_context=True)
def org_url(context: Any, name: str, **kwargs: Any) -> str:
    return org_reverse(context["request"], name, **kwargs)


@register.filter
def has_scope(request: Any, scope: str) -> bool:
    return scope in getattr(request, "scopes", ())
