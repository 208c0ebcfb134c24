"""The tenant manager, the tenant context and the system check."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import models
from django.test.utils import isolate_apps

from rcm.outbox.models import OutboxMessage
from rcm.tenancy.checks import tenant_models_check
from rcm.tenancy.context import TenantNotSet, current_organization_id, tenant_context
from rcm.tenancy.models import Organization


def test_querying_a_tenant_model_without_a_tenant_raises(db: Any) -> None:
    with pytest.raises(TenantNotSet):
        list(OutboxMessage.objects.all())


def test_the_manager_returns_only_the_current_tenants_rows(org: Any, other_org: Any) -> None:
    for tenant in (org, other_org):
        with tenant_context(tenant):
            OutboxMessage.objects.create(topic="t", payload={}, idempotency_key="same-key")
    with tenant_context(org):
        assert {m.organization_id for m in OutboxMessage.objects.all()} == {org.pk}
        assert OutboxMessage.objects.count() == 1


def test_the_context_is_reset_after_the_block_even_on_error(org: Any) -> None:
    with pytest.raises(RuntimeError), tenant_context(org):
        assert current_organization_id() == org.pk
        raise RuntimeError("boom")
    assert current_organization_id() is None


def test_nested_contexts_restore_the_outer_tenant(org: Any, other_org: Any) -> None:
    with tenant_context(org):
        with tenant_context(other_org):
            assert current_organization_id() == other_org.pk
        assert current_organization_id() == org.pk
        OutboxMessage.objects.create(topic="t", payload={}, idempotency_key="k")
        assert OutboxMessage.objects.get().organization_id == org.pk


def test_saving_another_organizations_row_inside_a_tenant_is_refused(
    org: Any, other_org: Any
) -> None:
    with tenant_context(other_org):
        message = OutboxMessage.objects.create(topic="t", payload={}, idempotency_key="k")
    with tenant_context(org), pytest.raises(PermissionError):
        message.save()


@isolate_apps("rcm.tenancy")
def test_the_system_check_rejects_an_organization_fk_outside_tenant_model() -> None:
    class Rogue(models.Model):  # noqa: DJ008
        organization = models.ForeignKey(Organization, on_delete=models.CASCADE)

        class Meta:
            app_label = "tenancy"

    from django.apps import apps as global_apps

    errors = tenant_models_check()
    assert not errors  # the real project is clean
    # Feed the isolated model to the same rule.
    original = global_apps.get_models
    try:
        global_apps.get_models = lambda *a, **k: [Rogue]  # type: ignore[method-assign]
        errors = tenant_models_check()
    finally:
        global_apps.get_models = original  # type: ignore[method-assign]
    assert [e.id for e in errors] == ["tenancy.E001"]
    assert "Rogue" in errors[0].msg
