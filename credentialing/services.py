"""Every change to providers, facilities, credentials, enrollments and payer rules; the
billability check; and the daily credentialing alert scan.

Each write runs in one transaction, raises DomainError naming the field for anything a user can
fix, and writes the audit trail (field names only)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q

from alerts.models import Area, Severity
from alerts.services import AlertSpec, alerts_raise
from credentialing import rules
from credentialing.models import (
    EXPIRING_KINDS,
    Credential,
    CredentialKind,
    EnrollmentEvent,
    EnrollmentStatus,
    PayerEnrollment,
    PayerProviderRule,
    Provider,
    ProviderType,
    ServiceFacility,
)
from patients.models import Payer
from rcm.audit.context import current_actor
from rcm.audit.services import audit_record
from rcm.errors import DomainError
from rcm.outbox.services import outbox_enqueue
from rcm.service_helpers import apply_fields as _apply
from rcm.service_helpers import validate_model as _validate
from rcm.tenancy.context import require_organization_id
from rcm.tenancy.models import Membership


def _check(field: str, message: str | None) -> None:
    if message:
        raise DomainError(message, field=field)


def _same_tenant(obj: Any, field: str) -> None:
    """Refuse a related row of another organization (the fail-closed manager guards reads; this
    guards ids handed to a service directly)."""
    if obj is not None and obj.organization_id != require_organization_id():
        raise DomainError("Not found.", field=field)


# --- Providers --------------------------------------------------------------------------------

# In the order forms show them.
PROVIDER_FIELDS = (
    "first_name",
    "last_name",
    "credentials_suffix",
    "npi",
    "taxonomy_code",
    "provider_type",
    "supervising_provider",
    "user",
    "active_from",
    "active_until",
)


def _check_provider(provider: Provider) -> None:
    provider.npi = (provider.npi or "").strip()
    provider.taxonomy_code = (provider.taxonomy_code or "").strip().upper()
    _check("npi", rules.npi_error(provider.npi))
    _check("taxonomy_code", rules.taxonomy_error(provider.taxonomy_code))
    if (
        provider.active_until
        and provider.active_from
        and provider.active_until < provider.active_from
    ):
        raise DomainError("Active until is before active from.", field="active_until")
    supervisor = provider.supervising_provider
    _same_tenant(supervisor, "supervising_provider")
    if supervisor is not None:
        if supervisor.pk == provider.pk:
            raise DomainError("A provider cannot supervise themself.", field="supervising_provider")
        if supervisor.provider_type in rules.PRE_LICENSURE_TYPES:
            raise DomainError(
                "The supervising provider must be licensed, not pre-licensure.",
                field="supervising_provider",
            )
    if provider.user_id and not Membership.objects.filter(user_id=provider.user_id).exists():
        raise DomainError("The linked account must be a member of this organization.", field="user")
    _validate(provider)
    if Provider.objects.filter(npi=provider.npi).exclude(pk=provider.pk).exists():
        raise DomainError(f"NPI {provider.npi} belongs to another provider.", field="npi")


def provider_create(**data: Any) -> Provider:
    """Add a provider; the NPI must pass its check digit and be new to the organization."""
    provider = Provider()
    _apply(provider, data, PROVIDER_FIELDS)
    with transaction.atomic():
        _check_provider(provider)
        provider.save()
        audit_record(action="provider.create", obj=provider)
    return provider


def provider_update(*, provider: Provider, data: dict[str, Any]) -> Provider:
    with transaction.atomic():
        provider = Provider.objects.select_for_update().get(pk=provider.pk)
        fields = _apply(provider, data, PROVIDER_FIELDS)
        _check_provider(provider)
        provider.save()
        audit_record(action="provider.update", obj=provider, detail={"fields": fields})
    return provider


# --- Service facilities -----------------------------------------------------------------------

# In the order forms show them.
FACILITY_FIELDS = (
    "name",
    "npi",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "postal_code",
    "place_of_service",
    "is_active",
)


def _check_facility(facility: ServiceFacility) -> None:
    facility.npi = (facility.npi or "").strip()
    facility.state = (facility.state or "").strip().upper()
    _check("npi", rules.npi_error(facility.npi))
    _check("address_line1", rules.po_box_error(facility.address_line1))
    _check("address_line2", rules.po_box_error(facility.address_line2))
    if facility.postal_code:
        _check("postal_code", rules.zip_code_error(facility.postal_code))
    if not (len(facility.place_of_service) == 2 and facility.place_of_service.isdigit()):
        raise DomainError(
            "A place of service code is two digits, e.g. 11.", field="place_of_service"
        )
    _validate(facility)
    if ServiceFacility.objects.filter(name=facility.name).exclude(pk=facility.pk).exists():
        raise DomainError(f"There is already a facility named {facility.name}.", field="name")


def facility_create(**data: Any) -> ServiceFacility:
    """Add a service facility; its address must be a street address (no PO box)."""
    facility = ServiceFacility()
    _apply(facility, data, FACILITY_FIELDS)
    with transaction.atomic():
        _check_facility(facility)
        facility.save()
        audit_record(action="service_facility.create", obj=facility)
    return facility


def facility_update(*, facility: ServiceFacility, data: dict[str, Any]) -> ServiceFacility:
    with transaction.atomic():
        facility = ServiceFacility.objects.select_for_update().get(pk=facility.pk)
        fields = _apply(facility, data, FACILITY_FIELDS)
        _check_facility(facility)
        facility.save()
        audit_record(action="service_facility.update", obj=facility, detail={"fields": fields})
    return facility


# --- Credentials ------------------------------------------------------------------------------

# In the order forms show them.
CREDENTIAL_FIELDS = (
    "kind",
    "number",
    "state",
    "issuer",
    "issued_on",
    "expires_on",
    "verified_on",
    "attested_on",
    "result",
)


def _check_credential(credential: Credential) -> None:
    credential.state = (credential.state or "").strip().upper()
    kind = credential.kind
    if (
        credential.issued_on
        and credential.expires_on
        and credential.expires_on < credential.issued_on
    ):
        raise DomainError("The expiry date is before the issue date.", field="expires_on")
    if kind in EXPIRING_KINDS and credential.expires_on is None:
        raise DomainError(
            f"A {credential.get_kind_display().lower()} needs its expiry date.", field="expires_on"
        )
    if kind == CredentialKind.STATE_LICENCE and not (credential.number and credential.state):
        raise DomainError("A state licence needs its number and state.", field="number")
    if kind == CredentialKind.DEA and credential.provider.provider_type not in {
        ProviderType.PSYCHIATRIST,
        ProviderType.PSYCH_NP,
        ProviderType.PA,
    }:
        raise DomainError("A DEA registration is recorded for prescribers only.", field="kind")
    if kind == CredentialKind.CAQH and not (credential.number and credential.attested_on):
        raise DomainError(
            "CAQH needs the ProView id and the last attestation date.", field="attested_on"
        )
    if kind == CredentialKind.OIG_CHECK and not (credential.verified_on and credential.result):
        raise DomainError("An OIG check needs its date and result.", field="result")
    if kind != CredentialKind.OIG_CHECK and credential.result:
        raise DomainError("Only an OIG exclusion check has a result.", field="result")
    _validate(credential)


def credential_create(*, provider: Provider, **data: Any) -> Credential:
    """Record a credential of a provider."""
    _same_tenant(provider, "provider")
    credential = Credential(provider=provider)
    _apply(credential, data, CREDENTIAL_FIELDS)
    with transaction.atomic():
        _check_credential(credential)
        credential.save()
        audit_record(action="credential.create", obj=credential, detail={"kind": credential.kind})
    return credential


def credential_update(*, credential: Credential, data: dict[str, Any]) -> Credential:
    with transaction.atomic():
        credential = (
            Credential.objects.select_for_update(of=("self",))
            .select_related("provider")
            .get(pk=credential.pk)
        )
        fields = _apply(credential, data, CREDENTIAL_FIELDS)
        _check_credential(credential)
        credential.save()
        audit_record(action="credential.update", obj=credential, detail={"fields": fields})
    return credential


# --- Enrollments ------------------------------------------------------------------------------

# The dates an enrollment records along its steps.
ENROLLMENT_DATES = (
    "submitted_on",
    "in_process_on",
    "approved_on",
    "denied_on",
    "effective_date",
    "termination_date",
    "recredentialing_due_on",
)
# What may change on an enrollment (its provider and payer never do), in the order forms show them.
ENROLLMENT_FIELDS = (
    "service_facility",
    "status",
    *ENROLLMENT_DATES,
    "payer_provider_id",
    "bill_under_supervisor",
    "notes",
)

# The date field each status stamps when it is reached without one given.
STEP_DATE_FIELD = {
    EnrollmentStatus.SUBMITTED: "submitted_on",
    EnrollmentStatus.IN_PROCESS: "in_process_on",
    EnrollmentStatus.APPROVED: "approved_on",
    EnrollmentStatus.DENIED: "denied_on",
    EnrollmentStatus.TERMINATED: "termination_date",
}


def _check_enrollment(enrollment: PayerEnrollment, from_status: str = "") -> None:
    problem = rules.enrollment_status_ok(
        status=enrollment.status,
        effective_date=enrollment.effective_date,
        termination_date=enrollment.termination_date,
        from_status=from_status,
    )
    if problem:
        raise DomainError(problem[1], field=problem[0])
    _validate(enrollment)
    duplicate = PayerEnrollment.objects.filter(
        provider_id=enrollment.provider_id,
        payer_id=enrollment.payer_id,
        service_facility_id=enrollment.service_facility_id,
    ).exclude(pk=enrollment.pk)
    if duplicate.exists():
        where = f" at {enrollment.service_facility}" if enrollment.service_facility_id else ""
        raise DomainError(
            f"{enrollment.provider} already has an enrollment with {enrollment.payer}{where}; "
            "change that one instead.",
            field="payer",
        )


def _event(
    enrollment: PayerEnrollment,
    *,
    from_status: str,
    fields: list[str],
    user: Any,
    today: date,
    note: str = "",
) -> EnrollmentEvent:
    step_field = STEP_DATE_FIELD.get(enrollment.status)  # type: ignore[call-overload]
    occurred = (
        getattr(enrollment, step_field) if step_field and from_status != enrollment.status else None
    )
    return EnrollmentEvent.objects.create(
        enrollment=enrollment,
        from_status=from_status,
        to_status=enrollment.status,
        occurred_on=occurred or today,
        changed_by=user if getattr(user, "pk", None) else None,
        actor_label=str(user) if getattr(user, "pk", None) else current_actor().label,
        fields_changed=fields,
        note=note,
    )


def _stamp_step(enrollment: PayerEnrollment, from_status: str, today: date) -> None:
    if enrollment.status == from_status:
        return
    field = STEP_DATE_FIELD.get(enrollment.status)  # type: ignore[call-overload]
    # Termination keeps its own meaning (the last billable day), so it is never defaulted.
    if field and field != "termination_date" and getattr(enrollment, field) is None:
        setattr(enrollment, field, today)


def enrollment_create(
    *, provider: Provider, payer: Payer, user: Any = None, today: date, **data: Any
) -> PayerEnrollment:
    """Start tracking a provider's enrollment with a payer (and facility); one per combination."""
    for obj, name in (
        (provider, "provider"),
        (payer, "payer"),
        (data.get("service_facility"), "service_facility"),
    ):
        _same_tenant(obj, name)
    enrollment = PayerEnrollment(provider=provider, payer=payer)
    fields = _apply(enrollment, data, ENROLLMENT_FIELDS)
    with transaction.atomic():
        _stamp_step(enrollment, "", today)
        _check_enrollment(enrollment)
        try:
            with transaction.atomic():
                enrollment.save()
        except IntegrityError as exc:
            raise DomainError(
                f"{provider} already has an enrollment with {payer} there.", field="payer"
            ) from exc
        _event(
            enrollment, from_status="", fields=fields, user=user, today=today, note=enrollment.notes
        )
        audit_record(
            action="enrollment.create", obj=enrollment, detail={"status": enrollment.status}
        )
    return enrollment


def enrollment_update(
    *,
    enrollment: PayerEnrollment,
    data: dict[str, Any],
    user: Any = None,
    today: date,
    note: str = "",
) -> PayerEnrollment:
    """Change an enrollment (a status step, dates, ids); every change appends a history event."""
    _same_tenant(data.get("service_facility"), "service_facility")
    with transaction.atomic():
        enrollment = (
            PayerEnrollment.objects.select_for_update(of=("self",))
            .select_related("provider", "payer", "service_facility")
            .get(pk=enrollment.pk)
        )
        from_status = enrollment.status
        fields = _apply(enrollment, data, ENROLLMENT_FIELDS)
        if not fields and not note:
            return enrollment
        _stamp_step(enrollment, from_status, today)
        _check_enrollment(enrollment, from_status)
        enrollment.save()
        _event(
            enrollment, from_status=from_status, fields=fields, user=user, today=today, note=note
        )
        audit_record(
            action="enrollment.update",
            obj=enrollment,
            detail={"fields": fields, "from": from_status, "to": enrollment.status},
        )
    return enrollment


# --- Payer rules ------------------------------------------------------------------------------


# What a payer rule says, in the order forms show them.
PAYER_RULE_FIELDS = (
    "payer",
    "provider_type",
    "service_code",
    "accepted",
    "requires_supervision",
    "notes",
)


def payer_rule_create(
    *,
    payer: Payer,
    provider_type: str,
    service_code: str = "",
    accepted: bool = True,
    requires_supervision: bool = False,
    notes: str = "",
) -> PayerProviderRule:
    """Record whether a payer accepts a provider type (for all codes or one code)."""
    if provider_type not in ProviderType.values:
        raise DomainError(f"Unknown provider type: {provider_type}", field="provider_type")
    if not accepted and requires_supervision:
        raise DomainError(
            "A type the payer does not accept cannot also be accepted under supervision.",
            field="requires_supervision",
        )
    _same_tenant(payer, "payer")
    code = service_code.strip().upper()
    with transaction.atomic():
        if PayerProviderRule.objects.filter(
            payer=payer, provider_type=provider_type, service_code=code
        ).exists():
            raise DomainError(
                "There is already a rule for this payer, provider type and code.",
                field="service_code",
            )
        rule = PayerProviderRule.objects.create(
            payer=payer,
            provider_type=provider_type,
            service_code=code,
            accepted=accepted,
            requires_supervision=requires_supervision,
            notes=notes,
        )
        audit_record(action="payer_rule.create", obj=rule)
    return rule


def payer_rule_delete(*, rule: PayerProviderRule) -> None:
    with transaction.atomic():
        audit_record(action="payer_rule.delete", obj=rule)
        rule.delete()


# --- Billability ------------------------------------------------------------------------------


@dataclass(frozen=True)
class BillabilityQuery:
    provider_id: uuid.UUID
    payer_id: uuid.UUID
    date_of_service: date
    service_code: str = ""
    service_facility_id: uuid.UUID | None = None


@dataclass(frozen=True)
class BillabilityResult:
    billable: bool
    code: str
    reason: str
    under_supervisor: Provider | None = None


def _provider_facts(p: Provider) -> rules.ProviderFacts:
    return rules.ProviderFacts(
        id=p.pk,
        name=p.display_name,
        provider_type=p.provider_type,
        type_label=p.get_provider_type_display(),
        active_from=p.active_from,
        active_until=p.active_until,
        supervising_provider_id=p.supervising_provider_id,
    )


def _credential_facts(c: Credential) -> rules.CredentialFacts:
    return rules.CredentialFacts(
        kind=c.kind,
        issued_on=c.issued_on,
        expires_on=c.expires_on,
        result=c.result,
        checked_on=c.verified_on,
    )


def _enrollment_facts(e: PayerEnrollment) -> rules.EnrollmentFacts:
    return rules.EnrollmentFacts(
        status=e.status,
        service_facility_id=e.service_facility_id,
        submitted_on=e.submitted_on,
        in_process_on=e.in_process_on,
        denied_on=e.denied_on,
        effective_date=e.effective_date,
        termination_date=e.termination_date,
        bill_under_supervisor=e.bill_under_supervisor,
    )


def billability_for_pairs(
    queries: Iterable[BillabilityQuery],
) -> dict[BillabilityQuery, BillabilityResult]:
    """The billability decision for many (provider, payer, date, code) questions at once, in a
    fixed number of queries (5) however many are asked. The claims scrubber feeds its service
    lines here; `provider_can_bill` asks one question."""
    queries = list(dict.fromkeys(queries))
    if not queries:
        return {}
    providers = {
        p.pk: p
        for p in Provider.objects.select_related("supervising_provider").filter(
            pk__in={q.provider_id for q in queries}
        )
    }
    supervisors = {
        p.supervising_provider_id: p.supervising_provider
        for p in providers.values()
        if p.supervising_provider_id
    }
    people = {**supervisors, **providers}
    payer_ids = {q.payer_id for q in queries}
    payers = {p.pk: p for p in Payer.objects.filter(pk__in=payer_ids)}
    credentials: dict[uuid.UUID, list[rules.CredentialFacts]] = defaultdict(list)
    for c in Credential.objects.filter(provider_id__in=people.keys()):
        credentials[c.provider_id].append(_credential_facts(c))
    enrollments: dict[tuple[uuid.UUID, uuid.UUID], list[rules.EnrollmentFacts]] = defaultdict(list)
    for e in PayerEnrollment.objects.filter(provider_id__in=people.keys(), payer_id__in=payer_ids):
        enrollments[(e.provider_id, e.payer_id)].append(_enrollment_facts(e))
    payer_rules: dict[uuid.UUID, list[rules.PayerRuleFacts]] = defaultdict(list)
    for r in PayerProviderRule.objects.filter(payer_id__in=payer_ids):
        payer_rules[r.payer_id].append(
            rules.PayerRuleFacts(
                r.provider_type, r.service_code, r.accepted, r.requires_supervision
            )
        )

    def record(person: Provider, payer_id: uuid.UUID) -> rules.ProviderRecord:
        return rules.ProviderRecord(
            provider=_provider_facts(person),
            credentials=credentials[person.pk],
            enrollments=enrollments[(person.pk, payer_id)],
        )

    results = {}
    for q in queries:
        provider, payer = providers.get(q.provider_id), payers.get(q.payer_id)
        if provider is None or payer is None:
            results[q] = BillabilityResult(False, "unknown", "Unknown provider or payer.")
            continue
        sup = provider.supervising_provider
        decision = rules.billability(
            record=record(provider, payer.pk),
            supervisor=record(sup, payer.pk) if sup else None,
            payer_name=payer.name,
            payer_rules=payer_rules[payer.pk],
            date_of_service=q.date_of_service,
            service_code=q.service_code.strip().upper(),
            service_facility_id=q.service_facility_id,
        )
        results[q] = BillabilityResult(
            decision.billable,
            decision.code,
            decision.reason,
            under_supervisor=sup if decision.under_supervisor else None,
        )
    return results


def provider_can_bill(
    provider: Provider,
    payer: Payer,
    date_of_service: date,
    service_code: str = "",
    *,
    service_facility: ServiceFacility | None = None,
) -> BillabilityResult:
    """Yes, yes under the supervising provider, or the exact reason not."""
    query = BillabilityQuery(
        provider.pk,
        payer.pk,
        date_of_service,
        service_code,
        service_facility.pk if service_facility else None,
    )
    return billability_for_pairs([query])[query]


# --- Alerts -----------------------------------------------------------------------------------

SEVERITY_BY_THRESHOLD = {
    0: Severity.CRITICAL,
    7: Severity.CRITICAL,
    30: Severity.WARNING,
    60: Severity.INFO,
}
CAQH_WARN_DAYS = 14


def _pending_alert_days() -> int:
    return int(getattr(settings, "CREDENTIALING_PENDING_ALERT_DAYS", 90))


def _link(provider_id: uuid.UUID) -> str:
    return f"credentialing/providers/{provider_id}/"


def _credential_specs(today: date) -> list[AlertSpec]:
    horizon = today + timedelta(days=max(rules.EXPIRY_THRESHOLDS))
    active = Q(provider__active_until__isnull=True) | Q(provider__active_until__gte=today)
    specs = []
    expiring = Credential.objects.select_related("provider").filter(
        active,
        kind__in=EXPIRING_KINDS,
        expires_on__lte=horizon,
        expires_on__gte=today - timedelta(days=30),
    )
    for cred in expiring:
        threshold = rules.expiry_threshold(cred.expires_on, today)  # type: ignore[arg-type]
        if threshold is None:
            continue
        label = cred.get_kind_display()
        name = cred.provider.display_name
        if threshold == 0:
            title = f"{label} of {name} expired on {cred.expires_on}"
            key = f"credential-expired:{cred.pk}:{cred.expires_on}"
        else:
            title = f"{label} of {name} expires on {cred.expires_on} (within {threshold} days)"
            key = f"credential-expiring:{cred.pk}:{cred.expires_on}:{threshold}"
        specs.append(
            AlertSpec(
                area=Area.CREDENTIALING,
                kind=f"credential.{'expired' if threshold == 0 else 'expiring'}",
                dedupe_key=key,
                title=title,
                message=f"{label} {cred.number} {cred.state}".strip(),
                severity=SEVERITY_BY_THRESHOLD[threshold],
                subject_type="credentialing.credential",
                subject_id=cred.pk,
                link_path=_link(cred.provider_id),
                due_on=cred.expires_on,
            )
        )
    attested_before = today + timedelta(days=CAQH_WARN_DAYS - rules.CAQH_ATTESTATION_DAYS)
    for cred in Credential.objects.select_related("provider").filter(
        active, kind=CredentialKind.CAQH, attested_on__lte=attested_before
    ):
        due = cred.attested_on + timedelta(days=rules.CAQH_ATTESTATION_DAYS)  # type: ignore[operator]
        specs.append(
            AlertSpec(
                area=Area.CREDENTIALING,
                kind="caqh.attestation_due",
                dedupe_key=f"caqh-attestation:{cred.pk}:{due}",
                title=f"CAQH attestation of {cred.provider.display_name} due on {due}",
                message=f"ProView id {cred.number}; last attested {cred.attested_on}.",
                severity=Severity.CRITICAL if due < today else Severity.WARNING,
                subject_type="credentialing.credential",
                subject_id=cred.pk,
                link_path=_link(cred.provider_id),
                due_on=due,
            )
        )
    return specs


def _enrollment_specs(today: date) -> list[AlertSpec]:
    specs = []
    horizon = today + timedelta(days=max(rules.EXPIRY_THRESHOLDS))
    active = Q(provider__active_until__isnull=True) | Q(provider__active_until__gte=today)
    for enr in PayerEnrollment.objects.select_related("provider", "payer").filter(
        active, status=EnrollmentStatus.APPROVED, recredentialing_due_on__lte=horizon
    ):
        due = enr.recredentialing_due_on
        threshold = rules.expiry_threshold(due, today)  # type: ignore[arg-type]
        when = "was due" if threshold == 0 else "is due"
        specs.append(
            AlertSpec(
                area=Area.CREDENTIALING,
                kind="enrollment.recredentialing_due",
                dedupe_key=f"recredentialing-due:{enr.pk}:{due}:{threshold}",
                title=f"Re-credentialing of {enr.provider.display_name} with {enr.payer.name} {when} on {due}",
                severity=SEVERITY_BY_THRESHOLD[threshold or 0],
                subject_type="credentialing.payerenrollment",
                subject_id=enr.pk,
                link_path=_link(enr.provider_id),
                due_on=due,
            )
        )
    days = _pending_alert_days()
    cutoff = today - timedelta(days=days)
    pending = PayerEnrollment.objects.select_related("provider", "payer").filter(
        active,
        Q(submitted_on__lte=cutoff) | Q(submitted_on__isnull=True, in_process_on__lte=cutoff),
        status__in=[EnrollmentStatus.SUBMITTED, EnrollmentStatus.IN_PROCESS],
    )
    for enr in pending:
        since = enr.submitted_on or enr.in_process_on
        specs.append(
            AlertSpec(
                area=Area.CREDENTIALING,
                kind="enrollment.pending_too_long",
                dedupe_key=f"enrollment-pending:{enr.pk}:{since}:{days}",
                title=f"Enrollment of {enr.provider.display_name} with {enr.payer.name} pending since {since} (over {days} days)",
                message="Call the payer's provider relations line for the application status.",
                subject_type="credentialing.payerenrollment",
                subject_id=enr.pk,
                link_path=_link(enr.provider_id),
            )
        )
    return specs


def credentialing_alerts_scan(*, today: date) -> list[Any]:
    """Raise the day's credentialing alerts for the organization in context: credentials
    expiring within 60/30/7 days or expired, CAQH attestations due, re-credentialing due, and
    applications pending too long. Set-based (five queries) and idempotent (dedupe keys)."""
    created = alerts_raise(specs=[*_credential_specs(today), *_enrollment_specs(today)])
    if expiring := [a for a in created if a.kind in ("credential.expiring", "credential.expired")]:
        # A domain event for the apps above (webhooks): each credential expiry alert raised for
        # the first time (one per credential and threshold: the alerts' dedupe keys).
        outbox_enqueue(
            topic="credentialing.credential_expiring",
            payload={"alert_ids": [str(a.pk) for a in expiring]},
            idempotency_key=f"credentialing.credential_expiring:{expiring[0].pk}",
        )
    return created


def unbillable_service_alerts(*, queries: Iterable[BillabilityQuery], today: date) -> list[Any]:
    """Raise one alert per provider x payer whose services (scheduled or recorded, as fed by the
    caller) cannot be billed. The claims app feeds its service entries here."""
    results = billability_for_pairs(queries)
    grouped: dict[tuple[uuid.UUID, uuid.UUID], list[tuple[BillabilityQuery, BillabilityResult]]] = (
        defaultdict(list)
    )
    for query, result in results.items():
        if not result.billable:
            grouped[(query.provider_id, query.payer_id)].append((query, result))
    specs = []
    for (provider_id, payer_id), items in grouped.items():
        first_dos = min(q.date_of_service for q, _ in items)
        reason = items[0][1]
        specs.append(
            AlertSpec(
                area=Area.CREDENTIALING,
                kind="provider.not_billable",
                dedupe_key=f"not-billable:{provider_id}:{payer_id}:{reason.code}",
                title=f"{len(items)} service date(s) from {first_dos} cannot be billed: {reason.reason}",
                severity=Severity.CRITICAL,
                subject_type="credentialing.provider",
                subject_id=provider_id,
                link_path=_link(provider_id),
                due_on=today,
            )
        )
    return alerts_raise(specs=specs)
