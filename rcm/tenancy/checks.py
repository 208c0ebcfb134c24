"""System check: a model with a foreign key to Organization must derive from TenantModel, so no
tenant-owned table can exist without the fail-closed manager."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core import checks


@checks.register(checks.Tags.models)
def tenant_models_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    from rcm.tenancy.models import Organization, TenantModel

    errors: list[checks.CheckMessage] = []
    for model in apps.get_models():
        if model._meta.app_label in {"admin", "auth", "contenttypes", "sessions", "axes"}:
            continue
        refers = any(
            getattr(field, "related_model", None) is Organization
            for field in model._meta.get_fields()
            if getattr(field, "many_to_one", False) or getattr(field, "one_to_one", False)
        )
        if refers and not issubclass(model, TenantModel):
            errors.append(
                checks.Error(
                    f"{model._meta.label} has a foreign key to Organization but does not derive "
                    "from TenantModel.",
                    hint="Derive it from rcm.tenancy.models.TenantModel (docs/tenancy.md).",
                    obj=model,
                    id="tenancy.E001",
                )
            )
    return errors
