from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from patients import services
from rcm.tenancy.context import tenant_context


@pytest.fixture
def chart(org: Any) -> dict[str, Any]:
    """Jane Doe at Riverbend: commercial primary coverage, a residential SUD episode (Part 2) with
    a diagnosis, and a consent; plus John Roe with a mental health episode."""
    with tenant_context(org):
        payer = services.payer_create(
            name="Blue Plan",
            payer_id="BP001",
            payer_type="commercial",
            auth_required_levels=["3.5", "2.1"],
        )
        jane = services.patient_create(
            mrn="R-100", first_name="Jane", last_name="Doe", date_of_birth=date(1980, 5, 1), sex="F"
        )
        coverage = services.coverage_create(
            patient=jane, payer=payer, member_id="W123456", effective_date=date(2026, 1, 1)
        )
        sud = services.episode_open(
            patient=jane, program_type="substance_use", admission_date=date(2026, 3, 1), level="3.5"
        )
        services.diagnosis_add(episode=sud, code="F10.20")
        consent = services.consent_create(
            patient=jane,
            disclosing_party="Riverbend",
            recipient_class="named_payer",
            recipient_payer=payer,
            purpose="payment",
            information_scope="Claims",
            signed_on=date(2026, 2, 1),
            expires_on=date(2027, 2, 1),
        )
        john = services.patient_create(
            mrn="R-200", first_name="John", last_name="Roe", date_of_birth=date(1975, 9, 9), sex="M"
        )
        mh = services.episode_open(
            patient=john, program_type="mental_health", admission_date=date(2026, 2, 1), level="1"
        )
        services.diagnosis_add(episode=mh, code="F33.1")
    return {
        "payer": payer,
        "jane": jane,
        "john": john,
        "coverage": coverage,
        "sud": sud,
        "mh": mh,
        "consent": consent,
    }
