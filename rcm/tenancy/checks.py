"""System checks. A model with a foreign key to Organization must derive from TenantModel, so no
tenant-owned table can exist without the fail-closed manager. The Celery times must agree: soft
limit < hard limit < broker visibility timeout, and the outbox relay's overdue age < visibility
timeout (docs/operations.md, "Time limits"). The outbox lease, its heartbeat and the relay
interval agree, so a dead worker's job is picked up within two minutes (rcm.E004-E006)."""

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


# A job whose worker died is picked up again within this long (issue 17; docs/operations.md).
PICKUP_WITHIN_SECONDS = 120
# What the relay's re-send needs to reach a free worker and start: the queue and the delivery.
DELIVERY_ALLOWANCE_SECONDS = 20


@checks.register()
def outbox_recovery_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """The lease, its heartbeat and the relay agree: a live handler never loses its lease to a
    late heartbeat, and a dead one's message is sent again within PICKUP_WITHIN_SECONDS."""
    lease = getattr(settings, "OUTBOX_LEASE_SECONDS", None)
    heartbeat = getattr(settings, "OUTBOX_HEARTBEAT_SECONDS", None)
    interval = getattr(settings, "OUTBOX_RELAY_INTERVAL_SECONDS", None)
    relay_after = getattr(settings, "OUTBOX_RELAY_AFTER_SECONDS", None) or 0
    hint = (
        "Set OUTBOX_HEARTBEAT_SECONDS <= OUTBOX_LEASE_SECONDS / 2 and max(OUTBOX_LEASE_SECONDS, "
        "OUTBOX_RELAY_AFTER_SECONDS) + OUTBOX_RELAY_INTERVAL_SECONDS <= "
        f"{PICKUP_WITHIN_SECONDS - DELIVERY_ALLOWANCE_SECONDS} (docs/operations.md, The outbox)."
    )
    errors: list[checks.CheckMessage] = []
    if not lease or not heartbeat or not interval or min(lease, heartbeat, interval) <= 0:
        return [
            checks.Error(
                "OUTBOX_LEASE_SECONDS, OUTBOX_HEARTBEAT_SECONDS and OUTBOX_RELAY_INTERVAL_SECONDS "
                "must all be set to a positive number of seconds.",
                hint=hint,
                id="rcm.E004",
            )
        ]
    if heartbeat * 2 > lease:
        errors.append(
            checks.Error(
                f"OUTBOX_HEARTBEAT_SECONDS ({heartbeat} s) must be at most half of "
                f"OUTBOX_LEASE_SECONDS ({lease} s): one late heartbeat would let a running "
                "handler's lease lapse and a second worker start the same job.",
                hint=hint,
                id="rcm.E004",
            )
        )
    worst = max(lease, relay_after) + interval
    if worst + DELIVERY_ALLOWANCE_SECONDS > PICKUP_WITHIN_SECONDS:
        errors.append(
            checks.Error(
                f"A job whose worker died would wait up to {worst} s (the longer of the lease, "
                f"{lease} s, and the relay's overdue age, {relay_after} s, plus the relay "
                f"interval, {interval} s) before it is sent again: more than "
                f"{PICKUP_WITHIN_SECONDS} s with {DELIVERY_ALLOWANCE_SECONDS} s to reach a worker.",
                hint=hint,
                id="rcm.E005",
            )
        )
    relay = settings.CELERY_BEAT_SCHEDULE.get("outbox-relay")
    scheduled = (
        float(relay["schedule"])
        if relay and isinstance(relay.get("schedule"), int | float)
        else None
    )
    if scheduled != float(interval):
        errors.append(
            checks.Error(
                f"Beat must run the outbox relay every OUTBOX_RELAY_INTERVAL_SECONDS ({interval} s); "
                f"CELERY_BEAT_SCHEDULE['outbox-relay'] says {scheduled if scheduled is not None else 'nothing'}.",
                hint="Schedule rcm.outbox.tasks.outbox_relay every OUTBOX_RELAY_INTERVAL_SECONDS.",
                id="rcm.E006",
            )
        )
    return errors
