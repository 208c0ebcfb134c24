"""Factories for the patients app (payers, patients, coverage, episodes, consents)."""

from __future__ import annotations

from datetime import date

import factory

from patients.models import Consent, Coverage, EpisodeOfCare, Patient, Payer
from tests.factories import TenantFactory


class PayerFactory(TenantFactory):
    class Meta:
        model = Payer

    name = factory.Sequence(lambda n: f"Health Plan {n}")
    payer_id = factory.Sequence(lambda n: f"HP{n:05d}")
    payer_type = "commercial"


class PatientFactory(TenantFactory):
    class Meta:
        model = Patient

    mrn = factory.Sequence(lambda n: f"MRN{n:06d}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    date_of_birth = date(1985, 4, 12)
    sex = "F"


class CoverageFactory(TenantFactory):
    class Meta:
        model = Coverage

    patient = factory.SubFactory(
        PatientFactory, organization=factory.SelfAttribute("..organization")
    )
    payer = factory.SubFactory(PayerFactory, organization=factory.SelfAttribute("..organization"))
    member_id = factory.Sequence(lambda n: f"M{n:08d}")
    priority = 1
    effective_date = date(2026, 1, 1)


class EpisodeFactory(TenantFactory):
    class Meta:
        model = EpisodeOfCare

    patient = factory.SubFactory(
        PatientFactory, organization=factory.SelfAttribute("..organization")
    )
    program_type = "substance_use"
    admission_date = date(2026, 3, 1)


class ConsentFactory(TenantFactory):
    class Meta:
        model = Consent

    patient = factory.SubFactory(
        PatientFactory, organization=factory.SelfAttribute("..organization")
    )
    disclosing_party = "Riverbend Recovery Center"
    recipient_class = "all_health_plans"
    purpose = "payment"
    information_scope = "Diagnoses, dates and services needed for payment"
    signed_on = date(2026, 2, 1)
    expires_on = date(2027, 2, 1)
