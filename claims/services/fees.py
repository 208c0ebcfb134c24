"""Fee schedules: the charge master and contracted rates, and the charge for a service on a day."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction

from claims import rules
from claims.models import (
    ChargeMasterItem,
    ContractRate,
)
from patients.models import (
    Payer,
)
from rcm.audit.services import audit_record
from rcm.errors import DomainError

# --- Fee schedules -----------------------------------------------------------------------------


def charge_master_set(
    *,
    service_code: str,
    charge: Decimal,
    effective_from: date,
    modifier: str = "",
    description: str = "",
    effective_to: date | None = None,
) -> ChargeMasterItem:
    """Set the organization's price for a code (and modifier) from a date; the same key again
    updates it."""
    if charge < 0:
        raise DomainError("A charge cannot be negative.", field="charge")
    if effective_to and effective_to < effective_from:
        raise DomainError("The end date is before the start date.", field="effective_to")
    with transaction.atomic():
        item, created = ChargeMasterItem.objects.update_or_create(
            service_code=service_code.strip().upper(),
            modifier=modifier.strip().upper(),
            effective_from=effective_from,
            defaults={"charge": charge, "description": description, "effective_to": effective_to},
        )
        audit_record(action="chargemaster.set", obj=item, detail={"created": created})
    return item


def contract_rate_set(
    *,
    payer: Payer,
    service_code: str,
    allowed: Decimal,
    effective_from: date,
    modifier: str = "",
    education_level: str = "",
    effective_to: date | None = None,
) -> ContractRate:
    if allowed < 0:
        raise DomainError("An allowed amount cannot be negative.", field="allowed")
    if education_level and education_level not in set(rules.LICENSURE_MODIFIER):
        raise DomainError(f"Unknown licensure level: {education_level}", field="education_level")
    with transaction.atomic():
        rate, created = ContractRate.objects.update_or_create(
            payer=payer,
            service_code=service_code.strip().upper(),
            modifier=modifier.strip().upper(),
            education_level=education_level,
            effective_from=effective_from,
            defaults={"allowed": allowed, "effective_to": effective_to},
        )
        audit_record(action="contractrate.set", obj=rate, detail={"created": created})
    return rate


def _in_effect(items: Iterable[Any], day: date) -> list[Any]:
    return [
        i
        for i in items
        if i.effective_from <= day and (i.effective_to is None or day <= i.effective_to)
    ]


def charge_for(
    *, service_code: str, modifiers: Sequence[str], date_of_service: date, units: int
) -> Decimal:
    """Charge master price x units: the price for the code with its first modifier, else the
    code's plain price; 0.00 when the code has no price (the scrubber then flags the line)."""
    items = _in_effect(ChargeMasterItem.objects.filter(service_code=service_code), date_of_service)
    by_modifier = {i.modifier: i for i in sorted(items, key=lambda i: i.effective_from)}
    item = next((by_modifier[m] for m in modifiers if m in by_modifier), None) or by_modifier.get(
        ""
    )
    return (item.charge * units).quantize(Decimal("0.01")) if item else Decimal("0.00")
