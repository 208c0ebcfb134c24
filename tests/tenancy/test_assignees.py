"""The one assignee check: an active member of the organization in context whose role grants
the area's scope (denials work items and authorizations share it)."""

from __future__ import annotations

from typing import Any

import pytest

from rcm.errors import DomainError
from rcm.tenancy.context import tenant_context
from rcm.tenancy.models import Membership
from rcm.tenancy.selectors import member_with_scope, members_with_scope


def test_a_biller_may_be_assigned_denials_work_by_user_or_by_id(org: Any, biller: Any) -> None:
    with tenant_context(org):
        assert member_with_scope(biller, scope="denials:write") == biller
        assert member_with_scope(biller.pk, scope="denials:write") == biller
        assert list(members_with_scope("denials:write")) == [biller]


def test_a_member_whose_role_lacks_the_scope_is_refused(org: Any, clinician: Any) -> None:
    with tenant_context(org), pytest.raises(DomainError) as refused:
        member_with_scope(clinician, scope="authorizations:write", field="assigned_to")
    assert refused.value.field == "assigned_to"


def test_an_inactive_member_and_another_organizations_member_are_refused(
    org: Any, biller: Any, outsider: Any
) -> None:
    with tenant_context(org):
        Membership.objects.filter(user=biller).update(is_active=False)
        for user in (biller, outsider):
            with pytest.raises(DomainError):
                member_with_scope(user, scope="denials:write")
        assert not members_with_scope("denials:write").exists()
