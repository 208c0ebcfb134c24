from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from patients import services
from rcm import part2
from rcm.tenancy.context import tenant_context
from tests import clock
from tests.clock import days_ago, days_from_now, today


@pytest.fixture
def chart(org: Any) -> dict[str, Any]:
    """Jane Doe at Riverbend: commercial primary coverage (since 400 days ago), a residential SUD
    episode (Part 2, admitted 100 days ago) with a diagnosis, and a consent in force; plus John
    Roe with a mental health episode admitted 130 days ago."""
    with tenant_context(org):
        payer = services.payer_create(
            name="Blue Plan",
            payer_id="BP001",
            payer_type="commercial",
            auth_required_levels=["3.5", "2.1"],
        )
        jane = services.patient_create(
            today=today(),
            mrn="R-100",
            first_name="Jane",
            last_name="Doe",
            date_of_birth=date(1980, 5, 1),
            sex="F",
        )
        coverage = services.coverage_create(
            patient=jane, payer=payer, member_id="W123456", effective_date=days_ago(400)
        )
        sud = services.episode_open(
            scopes=part2.ORGANIZATION,
            today=clock.today(),
            patient=jane,
            program_type="substance_use",
            admission_date=days_ago(100),
            level="3.5",
        )
        services.diagnosis_add(episode=sud, code="F10.20")
        consent = services.consent_create(
            patient=jane,
            disclosing_party="Riverbend",
            recipient_class="named_payer",
            recipient_payer=payer,
            purpose="payment",
            information_scope="Claims",
            signed_on=days_ago(130),
            expires_on=days_from_now(235),
        )
        john = services.patient_create(
            today=today(),
            mrn="R-200",
            first_name="John",
            last_name="Roe",
            date_of_birth=date(1975, 9, 9),
            sex="M",
        )
        mh = services.episode_open(
            scopes=part2.ORGANIZATION,
            today=clock.today(),
            patient=john,
            program_type="mental_health",
            admission_date=days_ago(130),
            level="1",
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
