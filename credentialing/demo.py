"""Demo rows for `make run`: a small roster with credentials, enrollments in every state, a
service facility and payer rules, so the matrix, the pipeline and the alerts have something to
show. Runs once per organization (skipped when it already has providers)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from credentialing import services
from credentialing.models import Provider
from credentialing.rules import npi_with_check_digit
from patients.models import Payer
from patients.services import payer_create
from rcm.tenancy.models import Organization
from rcm.tenancy.selectors import organization_today

DEMO_PAYERS = [
    ("State Medicaid", "SKMD0", "medicaid"),
    ("Medicare Part B", "MCRB1", "medicare"),
    ("Blue Ridge Health", "BRH01", "commercial"),
    ("Summit Care MCO", "SCMCO", "medicaid_mco"),
]


def seed(org: Organization) -> None:
    if Provider.objects.exists():
        return
    today = organization_today(org)
    payers = [
        Payer.objects.filter(payer_id=pid).first()
        or payer_create(name=name, payer_id=pid, payer_type=kind)
        for name, pid, kind in DEMO_PAYERS
    ]
    medicaid, medicare, commercial, mco = payers
    others = list(Payer.objects.filter(is_active=True).exclude(pk__in=[p.pk for p in payers]))
    salt = f"{sum(map(ord, org.slug)) % 1000:03d}"

    def npi(n: int) -> str:
        return npi_with_check_digit(f"1{salt}{n:05d}")

    def provider(
        n: int, first: str, last: str, suffix: str, kind: str, taxonomy: str, **kw: object
    ) -> Provider:
        return services.provider_create(
            first_name=first,
            last_name=last,
            credentials_suffix=suffix,
            npi=npi(n),
            taxonomy_code=taxonomy,
            provider_type=kind,
            active_from=today - timedelta(days=900),
            **kw,
        )

    psychiatrist = provider(1, "Maya", "Chen", "MD", "psychiatrist", "2084P0800X")
    psychologist = provider(2, "Omar", "Haddad", "PsyD", "psychologist", "103T00000X")
    lcsw = provider(3, "Grace", "Olsen", "LCSW", "lcsw", "1041C0700X")
    lmsw = provider(4, "Theo", "Park", "LMSW", "lmsw", "1041C0700X", supervising_provider=lcsw)
    lpc = provider(5, "Rosa", "Diaz", "LPC", "lpc", "101YP2500X")
    peer = provider(6, "Sam", "Brooks", "CPRS", "peer", "175T00000X")

    for p, days in ((psychiatrist, 700), (psychologist, 400), (lcsw, 20), (lmsw, 300), (lpc, 50)):
        services.credential_create(
            provider=p,
            kind="state_licence",
            number=f"LIC-{p.npi[-5:]}",
            state="IL",
            issued_on=today - timedelta(days=1000),
            expires_on=today + timedelta(days=days),
            verified_on=today - timedelta(days=30),
        )
    services.credential_create(
        provider=psychiatrist, kind="dea", number="BC1234563", expires_on=today + timedelta(days=6)
    )
    services.credential_create(
        provider=psychologist,
        kind="caqh",
        number="14820011",
        attested_on=today - timedelta(days=112),
    )
    services.credential_create(
        provider=lpc,
        kind="malpractice",
        issuer="Mutual Behavioral Insurance",
        number="MBI-5521",
        expires_on=today + timedelta(days=240),
    )
    for p in (psychiatrist, psychologist, lcsw, lpc):
        services.credential_create(
            provider=p, kind="oig_check", verified_on=today - timedelta(days=10), result="clear"
        )
    services.facility_create(
        name="Main clinic",
        npi=npi_with_check_digit(f"2{salt}00001"),
        address_line1="400 River Road",
        city="Springfield",
        state="IL",
        postal_code="62701",
        place_of_service="11",
    )
    services.payer_rule_create(payer=medicaid, provider_type="lmsw", requires_supervision=True)
    services.payer_rule_create(
        payer=medicare, provider_type="peer", accepted=False, notes="Not a Medicare provider type."
    )
    services.payer_rule_create(payer=medicare, provider_type="lmsw", accepted=False)

    approved: dict[str, Any] = {"status": "approved", "effective_date": today - timedelta(days=300)}
    plan: list[tuple[Provider, Payer, dict[str, Any]]] = [
        (psychiatrist, medicaid, approved),
        (psychiatrist, medicare, approved),
        (
            psychiatrist,
            commercial,
            {**approved, "recredentialing_due_on": today + timedelta(days=25)},
        ),
        (psychiatrist, mco, {"status": "in_process", "submitted_on": today - timedelta(days=120)}),
        (psychologist, medicaid, approved),
        (
            psychologist,
            commercial,
            {"status": "submitted", "submitted_on": today - timedelta(days=21)},
        ),
        (lcsw, medicaid, approved),
        (lcsw, medicare, {"status": "approved", "effective_date": today + timedelta(days=14)}),
        (lcsw, commercial, approved),
        (lcsw, mco, approved),
        (lmsw, medicaid, {"bill_under_supervisor": True}),
        (lpc, medicare, {"status": "denied", "submitted_on": today - timedelta(days=200)}),
        (
            lpc,
            commercial,
            {**approved, "status": "terminated", "termination_date": today - timedelta(days=5)},
        ),
        (peer, medicaid, approved),
    ]
    # The other payers (the paper one among them): the psychiatrist and the LCSW are enrolled.
    plan += [(p, payer, approved) for payer in others for p in (psychiatrist, lcsw)]
    for p, payer, data in plan:
        services.enrollment_create(provider=p, payer=payer, today=today, **data)
    services.credentialing_alerts_scan(today=today)
