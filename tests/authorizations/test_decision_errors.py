"""The authorization decision form shows every refusal at once, each beside its field."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from bs4 import BeautifulSoup

from authorizations import services
from authorizations.models import Authorization
from rcm.errors import DomainError
from rcm.tenancy.context import tenant_context
from tests.authorizations.test_views import BASE, _current
from tests.clock import today

pytestmark = pytest.mark.django_db


def test_an_approval_without_number_or_units_names_both_beside_their_fields(
    org: Any, biller: Any, client_for: Any
) -> None:
    auth = _current(
        org, 3, status="requested", units_approved=None, decided_on=None, auth_number=""
    )
    response = client_for(biller).post(
        f"{BASE}{auth.pk}/decide/",
        {"status": "partial", "decided_on": str(today()), "units_approved": "0"},
    )
    soup = BeautifulSoup(response.content, "html.parser")
    for field in ("auth_number", "units_approved"):
        error = soup.select_one(f"#id_{field}_error")
        assert error is not None, field
        assert error.find_parent(class_="field").select_one(f"#id_{field}"), field
    assert "authorization number" in soup.select_one("#id_auth_number_error").text
    with tenant_context(org):
        assert Authorization.objects.get(pk=auth.pk).status == "requested"


def test_the_service_refuses_with_every_reason(org: Any) -> None:
    auth = _current(
        org, 3, status="requested", units_approved=None, decided_on=None, auth_number=""
    )
    with tenant_context(org), pytest.raises(DomainError) as refused:
        services.authorization_decide(
            authorization=Authorization.objects.get(pk=auth.pk),
            status="partial",
            decided_on=today() - timedelta(days=10),
            units_approved=auth.units_requested,
        )
    fields = {e.field for e in refused.value.errors}
    assert fields == {"auth_number", "units_approved", "decided_on"}
