"""42 CFR Part 2: the one place that decides which rows a member may see and act on.

Substance use disorder (SUD) treatment records are protected by 42 CFR Part 2. A member sees
them only with the Part 2 grant on the membership (an API key: the `part2:read` scope); both
arrive as the `part2:read` scope in the caller's scopes (`rcm.tenancy.permissions`).

Selectors and services call `visible(queryset, scopes)` and hand out querysets already narrowed
for the caller; views, API views, exports, bulk actions, form dropdowns, dashboards and tasks never
test the grant themselves. Lists that hide rows say how many with `hidden_count`.

The rule for each model is in `RULES`, named by model label so this module imports no app: a row
is Part 2 when the episode it belongs to is an SUD program (`Episode(path)`), when the claim it
belongs to is flagged (`Claim(path)`: the flag is copied from the episode when the claim is
built), or when its own flag says so (`Flag(field)`: alerts and audit events, which name their
subject by id). It fails closed: a model with a foreign-key path to an episode or a claim that
`RULES` does not name (nor `NOT_PART2`, with its reason) is hidden whole from a member without the
grant, and tests/part2/test_access_layer.py fails until the model is named here.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Collection
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar

from django.apps import apps
from django.db import models
from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet

GRANT = "part2:read"

# The scopes of the organization's own work (beat scans, outbox handlers, demo data, imports),
# which is no member and sees every row. Services that narrow by the caller take `scopes`
# without a default, so forgetting them is a TypeError, never every row.
ORGANIZATION: frozenset[str] = frozenset({GRANT})

# The API lists' response header: how many rows of the list Part 2 kept from the caller.
HIDDEN_HEADER = "X-Part2-Hidden"

# What a member without the grant reads in place of a Part 2 value (the audit trail's patient,
# record id and detail).
RESTRICTED = "restricted (42 CFR Part 2)"

# The program types whose records Part 2 protects (patients.models.ProgramType values).
PROGRAM_TYPES = frozenset({"substance_use", "co_occurring"})

M = TypeVar("M", bound=models.Model)


@dataclass(frozen=True)
class Episode:
    """The row belongs to an episode of care; `path` leads from the row to it ("" for itself)."""

    path: str

    def q(self) -> Q:
        return Q(**{f"{_prefix(self.path)}program_type__in": PROGRAM_TYPES})

    def of(self, obj: Any) -> bool:
        episode = _follow(obj, self.path)
        return episode is not None and episode.program_type in PROGRAM_TYPES


@dataclass(frozen=True)
class Claim:
    """The row belongs to a claim; `path` leads from the row to it ("" for itself)."""

    path: str

    def q(self) -> Q:
        return Q(**{f"{_prefix(self.path)}is_part2": True})

    def of(self, obj: Any) -> bool:
        claim = _follow(obj, self.path)
        return claim is not None and bool(claim.is_part2)


@dataclass(frozen=True)
class Flag:
    """The row carries its own flag, set when it is written (it names its subject by id)."""

    field: str

    def q(self) -> Q:
        return Q(**{self.field: True})

    def of(self, obj: Any) -> bool:
        return bool(getattr(obj, self.field))


Rule = Episode | Claim | Flag

RULES: dict[str, Rule] = {
    # patients
    "patients.EpisodeOfCare": Episode(""),
    "patients.EpisodeDiagnosis": Episode("episode"),
    "patients.LevelOfCareStay": Episode("episode"),
    # authorizations
    "authorizations.Authorization": Episode("episode"),
    "authorizations.ConcurrentReview": Episode("authorization__episode"),
    "authorizations.AuthorizationUsage": Episode("episode"),
    "authorizations.AuthorizationEvent": Episode("authorization__episode"),
    # claims
    "claims.ServiceEntry": Episode("episode"),
    "claims.CareMinutes": Episode("episode"),
    "claims.CareMonth": Episode("episode"),
    "claims.Claim": Claim(""),
    "claims.ClaimLine": Claim("claim"),
    "claims.ClaimFinding": Claim("claim"),
    "claims.ClaimEvent": Claim("claim"),
    "submissions.BatchClaim": Claim("claim"),
    "submissions.ClaimRejection": Claim("claim"),
    "submissions.ClaimStatusInquiry": Claim("claim"),
    "submissions.EligibilityBatchItem": Episode("episode"),
    # denials
    "denials.RemittanceClaim": Claim("claim"),
    "denials.RemittanceLine": Claim("remittance_claim__claim"),
    "denials.RemittanceAdjustment": Claim("remittance_claim__claim"),
    "denials.RemittanceException": Claim("remittance_claim__claim"),
    "denials.LineBalance": Claim("claim"),
    "denials.SecondaryClaim": Claim("primary_claim"),
    "denials.Denial": Claim("claim"),
    "denials.WorkItem": Claim("claim"),
    "denials.WorkItemEvent": Claim("work_item__claim"),
    "denials.Appeal": Claim("denial__claim"),
    "denials.WriteOff": Claim("claim"),
    # patient accounts (an entry without a charge is the account's credit: not Part 2)
    "patient_accounts.ChargeBalance": Claim("claim"),
    "patient_accounts.LedgerEntry": Claim("charge_balance__claim"),
    "patient_accounts.PatientWriteOff": Claim("charge_balance__claim"),
    "patient_accounts.Statement": Flag("part2"),
    # reconciliation
    "reconciliation.UnderpaymentItem": Claim("claim"),
    # rows that name their subject by id
    "patients.Note": Flag("part2"),
    "alerts.Alert": Flag("part2"),
    "audit.AuditEvent": Flag("part2"),
    "interfaces.Hl7Message": Flag("part2"),
    "interfaces.HeldMessage": Flag("part2"),
    "webhooks.WebhookDelivery": Flag("part2"),
}

# Models with a path to an episode or a claim whose rows are not Part 2 records themselves.
NOT_PART2: dict[str, str] = {}

# Where a path to Part 2 data ends.
_ROOTS = ("patients.EpisodeOfCare", "claims.Claim")


def may_see(scopes: Collection[str]) -> bool:
    """Whether the caller holds the Part 2 grant."""
    return GRANT in scopes


def rule_for(model: type[models.Model]) -> Rule | None:
    return RULES.get(model._meta.label)


def visible(qs: QuerySet[M], scopes: Collection[str]) -> QuerySet[M]:
    """The rows of `qs` the caller may see: all of them with the grant; without it, no Part 2
    row, and nothing at all of a model that reaches Part 2 data by a path `RULES` does not name."""
    if may_see(scopes):
        return qs
    rule = rule_for(qs.model)
    if rule is not None:
        return qs.exclude(rule.q())
    if qs.model._meta.label in NOT_PART2 or not reaches_part2(qs.model):
        return qs
    return qs.none()


def hidden_count(qs: QuerySet[Any], scopes: Collection[str]) -> int:
    """How many rows of `qs` the caller may not see (one COUNT query; none with the grant), so a
    page can say "3 restricted records not shown" and its figures agree with the drill-down."""
    if may_see(scopes):
        return 0
    model: type[models.Model] = qs.model
    rule = rule_for(model)
    if rule is not None:
        return qs.filter(rule.q()).count()
    if model._meta.label in NOT_PART2 or not reaches_part2(model):
        return 0
    return qs.count()


def restricted_q(model: type[models.Model], path: str = "") -> Q:
    """The condition "the row is Part 2", for aggregates that count or sum restricted rows
    (`Count("id", filter=restricted_q(Claim))`); `path` prefixes it for a related model's rows."""
    rule = rule_for(model)
    if rule is None:
        raise LookupError(f"42 CFR Part 2: no rule for {model._meta.label}")
    q = rule.q()
    if not path:
        return q
    children: list[Any] = list(q.children)  # a rule's Q is one (lookup, value) pair
    return Q(**{f"{_prefix(path)}{key}": value for key, value in children})


def flag(model: type[models.Model], path: str = "") -> ExpressionWrapper:
    """`restricted_q` as a boolean column, for set-based writers that copy the flag onto the rows
    they write (`.annotate(part2=part2.flag(Authorization))` in a scan's `values()` query)."""
    return ExpressionWrapper(restricted_q(model, path), output_field=BooleanField())


def is_part2(obj: models.Model) -> bool:
    """Whether one row is a Part 2 record (follows its path: select_related it for lists).
    A model that reaches Part 2 data by a path `RULES` does not name counts as Part 2."""
    rule = rule_for(type(obj))
    if rule is not None:
        return rule.of(obj)
    return type(obj)._meta.label not in NOT_PART2 and reaches_part2(type(obj))


def restricted(obj: models.Model, scopes: Collection[str]) -> bool:
    """Whether the caller may not see this row."""
    return not may_see(scopes) and is_part2(obj)


def event_withheld(*, part2: bool, scopes: Collection[str]) -> bool:
    """Whether an event about a record (a Part 2 record when `part2`) is withheld from a
    recipient holding `scopes` (a webhook endpoint holds the grant only when an owner allowed it
    Part 2 detail). Withheld whole, not sent with ids only: an id flagged as a Part 2 record
    would itself tell the recipient that a patient is in SUD treatment, and the recipient
    cannot read the record through the API without the grant anyway."""
    return part2 and not may_see(scopes)


def require_grant(view: Callable[..., Any]) -> Callable[..., Any]:
    """An HTML view only for members with the Part 2 grant (403 otherwise), through the same
    permission map as every other scope (`rcm.tenancy.decorators.require_scope`)."""
    from rcm.tenancy.decorators import require_scope

    return require_scope(GRANT)(view)


# The audit trail's columns that name the patient or the record, or describe it; `detail` holds
# identifiers (episode, diagnosis, claim) and amounts.
AUDIT_REDACTED = ("patient_id", "object_id", "detail")


def redact_audit_row(row: M, scopes: Collection[str]) -> M:
    """An audit event as the caller may read it. The auditor sees every row (who, when, action,
    outcome and the kind of record stay); without the grant a Part 2 row's patient, record id and
    detail read RESTRICTED. Returns a copy, never the row itself, with `part2_redacted` set."""
    redacted = copy.copy(row)
    hidden = restricted(row, scopes)
    if hidden:
        for name in AUDIT_REDACTED:
            setattr(redacted, name, RESTRICTED)
    redacted.part2_redacted = hidden  # type: ignore[attr-defined]
    return redacted


@cache
def reaches_part2(model: type[models.Model]) -> bool:
    """Whether a chain of foreign keys leads from `model` to an episode or a claim."""
    return part2_path(model) is not None


def part2_path(model: type[models.Model], depth: int = 4) -> str | None:
    """The shortest foreign-key path from `model` to an episode or a claim, or None."""
    if not all(_installed(label) for label in _ROOTS):
        return None
    roots = {apps.get_model(label) for label in _ROOTS}
    frontier: list[tuple[type[models.Model], str]] = [(model, "")]
    seen = {model}
    for _ in range(depth + 1):
        next_frontier = []
        for current, path in frontier:
            if current in roots:
                return path
            for field in current._meta.get_fields():
                if not (field.many_to_one or field.one_to_one) or not field.concrete:
                    continue
                target = field.related_model
                if not isinstance(target, type) or target in seen:
                    continue
                seen.add(target)
                next_frontier.append((target, f"{_prefix(path)}{field.name}"))
        frontier = next_frontier
    return None


def _installed(label: str) -> bool:
    try:
        apps.get_model(label)
    except LookupError:
        return False
    return True


def _prefix(path: str) -> str:
    return f"{path}__" if path else ""


def _follow(obj: Any, path: str) -> Any:
    for name in path.split("__") if path else ():
        obj = getattr(obj, name)
        if obj is None:
            return None
    return obj
