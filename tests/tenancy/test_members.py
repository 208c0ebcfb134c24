"""Owners manage members and settings; every change is in the audit trail."""

from __future__ import annotations

from typing import Any

import pytest

from rcm.audit.models import AuditEvent
from rcm.errors import DomainError
from rcm.tenancy.context import tenant_context
from rcm.tenancy.models import Membership
from rcm.tenancy.permissions import Role
from rcm.tenancy.services import membership_add, membership_update


def test_adding_someone_twice_names_the_email_field(owner: Any, biller: Any, org: Any) -> None:
    with tenant_context(org), pytest.raises(DomainError) as err:
        membership_add(email=biller.email, role=Role.MANAGER)
    assert err.value.field == "email"


def test_the_last_owner_cannot_be_demoted(owner: Any, org: Any) -> None:
    with tenant_context(org):
        membership = Membership.objects.get(user=owner)
        with pytest.raises(DomainError, match="at least one active owner"):
            membership_update(
                membership=membership, role=Role.BILLER, part2_access=False, is_active=True
            )
        assert Membership.objects.get(user=owner).role == Role.OWNER


def test_an_owner_grants_part2_access_and_the_change_is_audited(
    owner: Any, manager: Any, org: Any, client_for: Any
) -> None:
    with tenant_context(org):
        membership = Membership.objects.get(user=manager)
    response = client_for(owner).post(
        f"/o/riverbend/settings/members/{membership.pk}/",
        {"role": "manager", "part2_access": "on", "is_active": "on"},
    )
    assert response.status_code == 302
    with tenant_context(org):
        assert Membership.objects.get(user=manager).part2_access is True
        event = AuditEvent.objects.get(action="membership.update")
    assert event.detail["fields"] == ["part2_access"]


def test_settings_reject_a_malformed_tax_id_and_change_nothing(
    owner: Any, org: Any, client_for: Any
) -> None:
    response = client_for(owner).post(
        "/o/riverbend/settings/",
        {"name": "Riverbend", "time_zone": "America/Chicago", "tax_id": "12-34"},
    )
    assert response.status_code == 200
    assert "EIN is 9 digits" in response.content.decode()
    org.refresh_from_db()
    assert org.tax_id == "" and org.name == "Riverbend Recovery Center"


def test_settings_are_saved_and_audited(owner: Any, org: Any, client_for: Any) -> None:
    response = client_for(owner).post(
        "/o/riverbend/settings/",
        {
            "name": "Riverbend Recovery",
            "time_zone": "America/Chicago",
            "tax_id": "37-1234567",
            "state": "il",
        },
    )
    assert response.status_code == 302
    org.refresh_from_db()
    assert (org.name, org.tax_id, org.state) == ("Riverbend Recovery", "371234567", "IL")
    with tenant_context(org):
        assert set(AuditEvent.objects.get(action="organization.update").detail["fields"]) >= {
            "name",
            "tax_id",
            "state",
        }
