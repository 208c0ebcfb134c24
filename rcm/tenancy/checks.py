"""System checks. A model with a foreign key to Organization must derive from TenantModel, so no
tenant-owned table can exist without the fail-closed manager. The Celery times must agree: soft
limit < hard limit < broker visibility timeout, and the outbox relay's overdue age < visibility
timeout (docs/operations.md, "Time limits")."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.conf import settings
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


@checks.register()
def celery_times_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout")
    hard = getattr(settings, "CELERY_TASK_TIME_LIMIT", None)
    soft = getattr(settings, "CELERY_TASK_SOFT_TIME_LIMIT", None)
    relay = getattr(settings, "OUTBOX_RELAY_AFTER_SECONDS", None)
    hint = (
        "Set CELERY_TASK_SOFT_TIME_LIMIT < CELERY_TASK_TIME_LIMIT < CELERY_VISIBILITY_TIMEOUT and "
        "OUTBOX_RELAY_AFTER_SECONDS < CELERY_VISIBILITY_TIMEOUT (docs/operations.md, Time limits)."
    )
    errors: list[checks.CheckMessage] = []
    if visibility is None or hard is None:
        errors.append(
            checks.Error(
                "CELERY_TASK_TIME_LIMIT and the broker's visibility_timeout must both be set: "
                "without them a task can outlive the visibility timeout and run twice.",
                hint=hint,
                id="rcm.E001",
            )
        )
        return errors
    if hard >= visibility:
        errors.append(
            checks.Error(
                f"CELERY_TASK_TIME_LIMIT ({hard} s) must be shorter than the broker's visibility "
                f"timeout ({visibility} s): Redis would hand a task still running to a second "
                "worker.",
                hint=hint,
                id="rcm.E001",
            )
        )
    if soft is not None and soft >= hard:
        errors.append(
            checks.Error(
                f"CELERY_TASK_SOFT_TIME_LIMIT ({soft} s) must be shorter than "
                f"CELERY_TASK_TIME_LIMIT ({hard} s): the task would be killed before it is told "
                "to stop.",
                hint=hint,
                id="rcm.E002",
            )
        )
    if relay is not None and relay >= visibility:
        errors.append(
            checks.Error(
                f"OUTBOX_RELAY_AFTER_SECONDS ({relay} s) must be shorter than the broker's "
                f"visibility timeout ({visibility} s): the relay re-sends overdue work before "
                "Redis redelivers it.",
                hint=hint,
                id="rcm.E003",
            )
        )
    return errors
