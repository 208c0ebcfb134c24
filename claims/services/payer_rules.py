"""Payer billing rules (edits as data) and the edits that apply to one claim."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.db import transaction

from claims import rules, scrubber
from claims.models import (
    PayerBillingRule,
)
from patients.models import (
    Payer,
)
from rcm.audit.services import audit_record
from rcm.errors import DomainError

# --- Payer billing rules (edits as data) ---------------------------------------------------------

PAYER_UNIT_TYPES = ("per_15", "per_hour", "per_diem", "session")


def corrected_claim_days(payer_id: object) -> int | None:
    """How many days the payer allows for a replacement or void claim after its decision on the
    original (its `corrected_claim_days` rule), or None when it names no limit."""
    value = (
        PayerBillingRule.objects.filter(payer_id=payer_id, rule_type="corrected_claim_days")
        .order_by("-created_at")
        .values_list("value", flat=True)
        .first()
    )
    return int(value) if value else None


def payer_billing_rule_create(
    *, payer: Payer, rule_type: str, value: str, service_code: str = "", level: str = ""
) -> PayerBillingRule:
    value = value.strip()
    if rule_type == "required_modifier":
        value = value.upper()
        if len(value) != 2 or not service_code.strip():
            raise DomainError(
                "A required modifier is 2 characters and names its service code.", field="value"
            )
    elif rule_type == "per_diem_minimum_minutes":
        if not value.isdigit() or not level:
            raise DomainError(
                "A per-diem minimum is a number of minutes for a level of care.", field="value"
            )
    elif rule_type == "corrected_claim_days":
        if not value.isdigit() or not 1 <= int(value) <= 3650:
            raise DomainError(
                "Days allowed for a corrected claim are a whole number from 1 to 3650.",
                field="value",
            )
        value = str(int(value))
    elif rule_type == "unit_rounding":
        if not rules.valid_rounding(value):
            raise DomainError(
                "Unit rounding is 'midpoint' (CMS 8-minute rule), 'whole_units' or "
                "'threshold:N' (a partial unit counts from N minutes).",
                field="value",
            )
    elif rule_type == "unit_type":
        if value not in PAYER_UNIT_TYPES or not service_code.strip():
            raise DomainError(
                f"A unit type names its service code and is one of {', '.join(PAYER_UNIT_TYPES)}.",
                field="value",
            )
    elif rule_type == "not_accepted":
        if not service_code.strip():
            raise DomainError(
                "Name the service code the payer does not accept.", field="service_code"
            )
        value = value or "not accepted"
    else:
        raise DomainError(f"Unknown rule type: {rule_type}", field="rule_type")
    rule = PayerBillingRule(
        payer=payer,
        rule_type=rule_type,
        service_code=service_code.strip().upper(),
        level=level,
        value=value,
    )
    with transaction.atomic():
        rule.save()
        audit_record(action="payer_billing_rule.create", obj=rule, detail={"rule_type": rule_type})
    return rule


def payer_edits(
    payer: Payer, billing_rules: Iterable[PayerBillingRule], *, licensure_modifier: str | None
) -> scrubber.PayerEdits:
    required: dict[str, list[str]] = defaultdict(list)
    minimums: dict[str, int] = {}
    rounding = rules.UnitRounding.MIDPOINT.value
    rounding_by_code: dict[str, str] = {}
    unit_types: dict[str, str] = {}
    not_accepted: set[str] = set()
    for rule in billing_rules:
        if rule.rule_type == "required_modifier":
            required[rule.service_code].append(rule.value)
        elif rule.rule_type == "per_diem_minimum_minutes":
            minimums[rule.level] = int(rule.value)
        elif rule.rule_type == "unit_rounding" and rule.service_code:
            rounding_by_code[rule.service_code] = rule.value
        elif rule.rule_type == "unit_rounding":
            rounding = rule.value
        elif rule.rule_type == "unit_type":
            unit_types[rule.service_code] = rule.value
        elif rule.rule_type == "not_accepted":
            not_accepted.add(rule.service_code)
    return scrubber.PayerEdits(
        name=payer.name,
        telehealth_pos=payer.telehealth_pos,
        telehealth_modifier=payer.telehealth_modifier,
        audio_only_modifier=payer.audio_only_modifier,
        timely_filing_days=payer.timely_filing_days,
        expected_licensure_modifier=licensure_modifier,
        required_modifiers={k: tuple(v) for k, v in required.items()},
        per_diem_minimum_minutes=minimums,
        unit_rounding=rounding,
        coding=scrubber.PayerCoding(
            rounding_by_code=rounding_by_code,
            unit_types=unit_types,
            not_accepted=frozenset(not_accepted),
        ),
    )
