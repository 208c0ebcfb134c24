"""Pure rules of credentialing: identifier checks and the billability decision.

The identifier checks are the X12 library's (x12.identifiers: one implementation for the 837,
the organization's billing identity and credentialing); they are named here too, so that
credentialing's services, demo data and tests reach every rule of theirs from one module.

No ORM and no clock here: services load plain facts and pass `date_of_service` / `today`. The
claims scrubber reaches these rules through `credentialing.services.provider_can_bill` and
`billability_for_pairs`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from x12.identifiers import ein_error as ein_error
from x12.identifiers import npi_error as npi_error
from x12.identifiers import npi_with_check_digit as npi_with_check_digit
from x12.identifiers import phone_error as phone_error
from x12.identifiers import po_box_error as po_box_error
from x12.identifiers import taxonomy_error as taxonomy_error
from x12.identifiers import zip_code_error as zip_code_error

# --- Billability ----------------------------------------------------------------------------

# Types that hold no independent licence and always bill under a supervisor where allowed.
PRE_LICENSURE_TYPES = frozenset({"lmsw"})
# Types that practise without a state licence of their own.
NO_LICENCE_TYPES = frozenset({"peer", "other"})

STATUS_LABELS = {
    "not_started": "Not started",
    "submitted": "Application submitted",
    "in_process": "In process",
    "approved": "Approved",
    "denied": "Denied",
    "terminated": "Terminated",
}
PENDING_STATUSES = frozenset({"submitted", "in_process"})


@dataclass(frozen=True)
class ProviderFacts:
    id: uuid.UUID
    name: str
    provider_type: str
    type_label: str
    active_from: date | None = None
    active_until: date | None = None
    supervising_provider_id: uuid.UUID | None = None


@dataclass(frozen=True)
class CredentialFacts:
    kind: str
    issued_on: date | None = None
    expires_on: date | None = None
    result: str = ""
    checked_on: date | None = None


@dataclass(frozen=True)
class EnrollmentFacts:
    status: str
    service_facility_id: uuid.UUID | None = None
    submitted_on: date | None = None
    in_process_on: date | None = None
    denied_on: date | None = None
    effective_date: date | None = None
    termination_date: date | None = None
    bill_under_supervisor: bool = False


@dataclass(frozen=True)
class PayerRuleFacts:
    provider_type: str
    service_code: str = ""  # blank: every code
    accepted: bool = True
    requires_supervision: bool = False


@dataclass(frozen=True)
class Billability:
    billable: bool
    code: str
    reason: str
    under_supervisor: object | None = None


@dataclass(frozen=True)
class ProviderRecord:
    """Everything the decision needs about one provider at one payer."""

    provider: ProviderFacts
    credentials: Sequence[CredentialFacts] = ()
    enrollments: Sequence[EnrollmentFacts] = ()


def _d(day: date) -> str:
    return day.isoformat()


def payer_rule_for(
    rules: Iterable[PayerRuleFacts], provider_type: str, service_code: str
) -> PayerRuleFacts | None:
    """The payer's rule for this type and code: a rule naming the code beats a general one."""
    general = None
    for rule in rules:
        if rule.provider_type != provider_type:
            continue
        if rule.service_code and rule.service_code == service_code:
            return rule
        if not rule.service_code:
            general = rule
    return general


def _personal_reason(record: ProviderRecord, dos: date) -> Billability | None:
    """Reasons that stop a provider whatever the enrollment: inactive, excluded, no licence."""
    p = record.provider
    if (p.active_from and dos < p.active_from) or (p.active_until and dos > p.active_until):
        return Billability(
            False, "inactive", f"{p.name} was not active with the organization on {_d(dos)}."
        )
    checks = [c for c in record.credentials if c.kind == "oig_check"]
    latest = max(checks, key=lambda c: c.checked_on or date.min, default=None)
    if latest is not None and latest.result == "excluded":
        when = _d(latest.checked_on) if latest.checked_on else "date not recorded"
        return Billability(
            False, "excluded", f"{p.name} is on the OIG exclusion list (checked {when})."
        )
    if p.provider_type in NO_LICENCE_TYPES:
        return None
    licences = [c for c in record.credentials if c.kind == "state_licence"]
    if any(
        (c.issued_on is None or c.issued_on <= dos)
        and (c.expires_on is None or dos <= c.expires_on)
        for c in licences
    ):
        return None
    expired = [c.expires_on for c in licences if c.expires_on and c.expires_on < dos]
    if expired:
        return Billability(False, "licence_expired", f"Licence expired on {_d(max(expired))}.")
    return Billability(False, "no_licence", f"No state licence on file valid on {_d(dos)}.")


def _enrollment_decision(
    enrollments: Sequence[EnrollmentFacts], dos: date, payer_name: str
) -> Billability:
    """The provider's own enrollment with the payer on the date of service."""
    rows = [e for e in enrollments if e.status != "not_started"]
    if not rows:
        return Billability(False, "not_enrolled", f"Not enrolled with {payer_name}.")
    effective = [
        e
        for e in rows
        if e.status in {"approved", "terminated"}
        and e.effective_date is not None
        and e.effective_date <= dos
        and (e.termination_date is None or dos <= e.termination_date)
    ]
    if effective:
        since = min(e.effective_date for e in effective if e.effective_date)
        return Billability(True, "enrolled", f"Enrolled with {payer_name}, effective {_d(since)}.")
    future = sorted(
        e.effective_date
        for e in rows
        if e.status == "approved" and e.effective_date and e.effective_date > dos
    )
    if future:
        return Billability(
            False,
            "not_yet_effective",
            f"Enrollment with {payer_name} is effective only from {_d(future[0])}.",
        )
    ended = sorted(
        (e.termination_date for e in rows if e.termination_date and e.termination_date < dos),
        reverse=True,
    )
    if ended or any(e.status == "terminated" for e in rows):
        when = f" on {_d(ended[0])}" if ended else ""
        return Billability(
            False, "terminated", f"Enrollment with {payer_name} was terminated{when}."
        )
    pending = sorted(
        (e.submitted_on or e.in_process_on for e in rows if e.status in PENDING_STATUSES),
        key=lambda d: d or date.max,
    )
    if pending:
        since_text = f" since {_d(pending[0])}" if pending[0] else ""
        return Billability(False, "pending", f"Enrollment with {payer_name} pending{since_text}.")
    denied = [e.denied_on for e in rows if e.status == "denied"]
    when = f" on {_d(denied[0])}" if denied and denied[0] else ""
    return Billability(False, "denied", f"Enrollment with {payer_name} was denied{when}.")


def billability(
    *,
    record: ProviderRecord,
    supervisor: ProviderRecord | None,
    payer_name: str,
    payer_rules: Sequence[PayerRuleFacts],
    date_of_service: date,
    service_code: str = "",
    service_facility_id: uuid.UUID | None = None,
) -> Billability:
    """May this provider's service on this date be billed to this payer, and under whom?

    Order: the provider's own standing (active, not excluded, licensed on the date), then the
    payer's rule for the provider type and code, then the enrollment; a supervised path is taken
    when the type is pre-licensure, the payer's rule requires supervision, or the enrollment says
    the payer allows billing under the supervising provider.
    """
    dos = date_of_service
    p = record.provider
    personal = _personal_reason(record, dos)
    if personal:
        return personal
    rule = payer_rule_for(payer_rules, p.provider_type, service_code)
    if rule is not None and not rule.accepted:
        for_code = f" for {service_code}" if rule.service_code else ""
        return Billability(
            False, "type_not_accepted", f"{payer_name} does not accept {p.type_label}{for_code}."
        )
    enrollments = [
        e
        for e in record.enrollments
        if service_facility_id is None
        or e.service_facility_id is None
        or e.service_facility_id == service_facility_id
    ]
    must_supervise = p.provider_type in PRE_LICENSURE_TYPES or bool(
        rule and rule.requires_supervision
    )
    direct = None
    if not must_supervise:
        direct = _enrollment_decision(enrollments, dos, payer_name)
        if direct.billable:
            return direct
    allowed = bool(rule and rule.requires_supervision) or any(
        e.bill_under_supervisor for e in enrollments
    )
    if not allowed:
        if direct is not None:
            return direct
        return Billability(
            False,
            "supervision_not_allowed",
            f"{p.type_label} cannot bill {payer_name} directly, and {payer_name} is not recorded "
            "as allowing billing under the supervising provider.",
        )
    if supervisor is None:
        return Billability(
            False,
            "no_supervisor",
            f"{p.name} must bill under a supervising provider; none is on file.",
        )
    sup = billability(
        record=supervisor,
        supervisor=None,
        payer_name=payer_name,
        payer_rules=payer_rules,
        date_of_service=dos,
        service_code=service_code,
        service_facility_id=service_facility_id,
    )
    if sup.billable and sup.under_supervisor is None:
        return Billability(
            True,
            "under_supervisor",
            f"Bill under the supervising provider {supervisor.provider.name}.",
            under_supervisor=supervisor.provider.id,
        )
    return Billability(
        False,
        "supervisor_not_billable",
        f"The supervising provider {supervisor.provider.name} cannot bill {payer_name}: {sup.reason}",
    )


# --- Expiry thresholds ------------------------------------------------------------------------

EXPIRY_THRESHOLDS = (60, 30, 7)
CAQH_ATTESTATION_DAYS = 120


def expiry_threshold(expires_on: date, today: date) -> int | None:
    """The tightest threshold (60/30/7 days) the expiry falls within; 0 once expired; None when
    it is further away than the widest threshold."""
    days_left = (expires_on - today).days
    if days_left < 0:
        return 0
    within = [t for t in EXPIRY_THRESHOLDS if days_left <= t]
    return min(within) if within else None


def enrollment_status_ok(
    *,
    status: str,
    effective_date: date | None,
    termination_date: date | None,
    from_status: str = "",
) -> tuple[str, str] | None:
    """(field, message) when the enrollment's status and dates contradict each other. Steps may
    be recorded out of order (staff often learn of several at once), but only an enrollment that
    was approved can be terminated."""
    if status == "terminated" and from_status not in {"", "approved", "terminated"}:
        return "status", "Only an approved enrollment can be terminated; record the approval first."
    if status == "approved" and effective_date is None:
        return "effective_date", "An approved enrollment needs its effective date."
    if termination_date and effective_date and termination_date < effective_date:
        return "termination_date", "The termination date is before the effective date."
    if status == "terminated" and termination_date is None:
        return "termination_date", "A terminated enrollment needs its termination date."
    return None
