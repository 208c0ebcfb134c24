"""Factories for the patients app (payers, patients, coverage, episodes, consents).

Dates are relative to the frozen clock (tests/clock.py) so that, by default, a service a few days
(up to about a year) ago is covered: coverage in force since 400 days ago, an episode admitted 60
days ago, a consent signed 90 days ago that expires in 275 days. A test that depends on one of
these dates passes its own."""

from __future__ import annotations

from datetime import date

import factory

from patients.models import Consent, Coverage, EpisodeOfCare, Patient, Payer
from tests.clock import days_ago, days_from_now
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
    effective_date = factory.LazyFunction(lambda: days_ago(400))


class EpisodeFactory(TenantFactory):
    class Meta:
        model = EpisodeOfCare

    patient = factory.SubFactory(
        PatientFactory, organization=factory.SelfAttribute("..organization")
    )
    program_type = "substance_use"
    admission_date = factory.LazyFunction(lambda: days_ago(60))


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
    signed_on = factory.LazyFunction(lambda: days_ago(90))
    expires_on = factory.LazyFunction(lambda: days_from_now(275))
