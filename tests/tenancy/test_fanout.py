"""for_each_organization: every active organization gets its turn inside its own tenant context
and on its own clock; one organization's failure neither stops the others nor goes unreported."""

from __future__ import annotations

from typing import Any

import pytest

from alerts.models import Alert
from rcm.tenancy.context import current_organization_id, tenant_context
from rcm.tenancy.fanout import OrganizationTurn, for_each_organization
from rcm.tenancy.selectors import organization_now
from tests.factories import OrganizationFactory


def _raise_alert(turn: OrganizationTurn) -> None:
    Alert.objects.create(
        area="authorizations",
        title=f"Alert of {turn.organization.slug}",
        dedupe_key=f"fanout:{turn.organization.slug}",
    )


def test_each_call_runs_inside_that_organizations_tenant_context_on_its_clock(
    org: Any, other_org: Any
) -> None:
    OrganizationFactory(name="Closed Clinic", slug="closed", is_active=False)

    def visit(turn: OrganizationTurn) -> tuple[Any, Any, Any]:
        return current_organization_id(), turn.now.tzinfo, turn.today

    results = for_each_organization(visit)

    assert sorted(o.slug for o, _ in results) == ["harborview", "riverbend"]  # not "closed"
    for organization, (in_context, zone, today) in results:
        assert in_context == organization.pk
        assert str(zone) == organization.time_zone
        assert today == organization_now(organization).date()
    assert current_organization_id() is None  # nothing left behind


def test_a_failure_in_one_organization_does_not_stop_the_others_and_is_raised_at_the_end(
    org: Any, other_org: Any, caplog: pytest.LogCaptureFixture
) -> None:
    first, second = sorted([org, other_org], key=lambda o: o.pk)

    def visit(turn: OrganizationTurn) -> None:
        _raise_alert(turn)  # written, then rolled back for the failing organization only
        if turn.organization.pk == first.pk:
            raise ValueError("the first organization's data is broken")

    with pytest.raises(ValueError, match="broken") as raised:
        for_each_organization(visit, name="test scan")

    assert "1 of 2 organizations failed" in "".join(raised.value.__notes__)
    assert f"test scan failed for organization {first.pk}" in caplog.text
    with tenant_context(first):
        assert not Alert.objects.exists()
    with tenant_context(second):
        assert Alert.objects.count() == 1


def test_every_turn_returns_its_result_when_nothing_fails(org: Any, other_org: Any) -> None:
    results = for_each_organization(lambda turn: turn.organization.slug)
    assert sorted(slug for _, slug in results) == ["harborview", "riverbend"]
