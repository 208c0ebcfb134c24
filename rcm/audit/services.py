"""Writing the audit trail. Services call `audit_record` for every change; views that show a
patient's data call `audit_read`. Both take the organization from the tenant context."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from django.db import models

from rcm import part2 as part2_layer
from rcm.audit import reads
from rcm.audit.context import current_actor
from rcm.audit.models import AuditEvent, Outcome
from rcm.tenancy.context import require_organization_id


def _object_ref(obj: models.Model | None) -> tuple[str, str]:
    if obj is None:
        return "", ""
    return obj._meta.label_lower, str(obj.pk)


def _is_part2(obj: models.Model | None) -> bool:
    """Whether the event concerns a Part 2 record (42 CFR Part 2): an object of a model the
    access layer has a rule for. The rule may follow a foreign key (an authorization's episode),
    so callers pass objects with that relation loaded, or say `part2=` themselves."""
    if obj is None or part2_layer.rule_for(type(obj)) is None:
        return False
    return part2_layer.is_part2(obj)


def audit_record_many(
    action: str, rows: Sequence[tuple[Any, dict[str, Any]]], *, part2: bool | None = None
) -> None:
    """One event per object in one INSERT (audit_record is a query each), for set-based
    services. Each object is a patient's row (it has patient_id) and `detail` names no PHI.
    Each row's Part 2 flag comes from its object (select_related the relation its rule follows,
    so this adds no query), unless `part2` says it for all of them."""
    actor = current_actor()
    org_id = require_organization_id()
    AuditEvent.objects.bulk_create(
        AuditEvent(
            organization_id=org_id,
            actor_id=actor.user_id,
            actor_label=actor.label,
            api_key_id=actor.api_key_id,
            role=actor.role,
            action=action,
            object_type=obj._meta.label_lower,
            object_id=str(obj.pk),
            patient_id=obj.patient_id,
            request_id=actor.request_id,
            ip_address=actor.ip_address,
            user_agent=actor.user_agent[:300],
            detail=detail,
            part2=_is_part2(obj) if part2 is None else part2,
        )
        for obj, detail in rows
    )


def audit_record(
    *,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    patient_id: uuid.UUID | None = None,
    outcome: str = Outcome.SUCCESS,
    detail: dict[str, Any] | None = None,
    organization_id: uuid.UUID | None = None,
    platform: bool = False,
    part2: bool | None = None,
) -> AuditEvent:
    """Append one event for the current organization (or none, for a `platform` event).
    `part2` flags an event about a Part 2 record (42 CFR Part 2); by default it is the object's
    own answer (`rcm.part2.is_part2`), False without an object."""
    ref_type, ref_id = _object_ref(obj)
    actor = current_actor()
    event = AuditEvent(
        organization_id=None if platform else (organization_id or require_organization_id()),
        actor_id=actor.user_id,
        actor_label=actor.label,
        api_key_id=actor.api_key_id,
        role=actor.role,
        action=action,
        object_type=object_type or ref_type,
        object_id=object_id or ref_id,
        patient_id=patient_id,
        request_id=actor.request_id,
        ip_address=actor.ip_address,
        user_agent=actor.user_agent[:300],
        outcome=outcome,
        detail=detail or {},
        part2=_is_part2(obj) if part2 is None else part2,
    )
    if reads.is_read_action(action):
        reads.note_read_recorded()
    # Platform rows bypass TenantModel.save's organization defaulting on purpose.
    models.Model.save(event, force_insert=True)
    return event


def audit_read(
    *, obj: models.Model, patient_id: uuid.UUID | None, part2: bool | None = None, **detail: Any
) -> AuditEvent:
    """Record that the current actor saw a record (a patient page, an API read, an export).
    `part2=True` when what was shown is Part 2 detail (the row's flag, not part of `detail`)."""
    return audit_record(
        action="view", obj=obj, patient_id=patient_id, detail=detail or None, part2=part2
    )


def changed_fields(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Names of the fields whose values differ, for `detail` (values are PHI; names are not)."""
    return sorted(key for key in after if before.get(key) != after.get(key))
