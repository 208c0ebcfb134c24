"""Typed requests: what the tenant middleware puts on a request, for the type checker.

Annotate an organization-scoped HTML view's request as `OrgRequest` (every `/o/<slug>/` page has
an organization, a membership and its scopes); `ApiRequest` is the Django request behind a DRF
request to `/api/v1/` (an organization, and either a membership or an API key); `scopes_of` reads
the scopes of a DRF request. The attributes are set by `rcm.tenancy.middleware.TenantMiddleware`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any, cast

from django.http import HttpRequest

if TYPE_CHECKING:
    from django_htmx.middleware import HtmxDetails

    from rcm.tenancy.models import ApiKey, Membership, Organization


class TenantRequest(HttpRequest):
    """Any request after the tenant middleware: outside an organization its fields are None."""

    organization: Organization | None
    membership: Membership | None
    api_key: ApiKey | None
    scopes: frozenset[str]
    htmx: HtmxDetails


class OrgRequest(TenantRequest):
    """A request inside an organization (`/o/<slug>/...` or an authenticated API call)."""

    organization: Organization


# The Django request under a DRF request to the API.
ApiRequest = OrgRequest


def org_request(request: Any) -> OrgRequest:
    """The Django request of a DRF request (or the request itself), typed."""
    return cast(OrgRequest, getattr(request, "_request", request))


def scopes_of(request: Any) -> frozenset[str]:
    """The caller's scopes, from a Django or a DRF request (none outside an organization)."""
    return getattr(org_request(request), "scopes", frozenset())


def request_today(request: Any) -> date:
    """The organization's day for this request (a Django or DRF request): the edge's clock."""
    from rcm.tenancy.selectors import organization_today

    return organization_today(org_request(request).organization)


def request_now(request: Any) -> datetime:
    """The organization's instant for this request (a Django or DRF request)."""
    from rcm.tenancy.selectors import organization_now

    return organization_now(org_request(request).organization)
