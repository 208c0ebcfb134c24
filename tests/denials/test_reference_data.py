"""The CARC/RARC data migration: the domain's categories are loaded, and loading is repeatable."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps

from denials.models import AdjustmentReason, RemarkCode

pytestmark = pytest.mark.django_db
migration = importlib.import_module("denials.migrations.0003_load_carc_rarc_codes")


@pytest.mark.parametrize(
    ("code", "category"),
    [
        ("197", "authorization"),
        ("50", "medical_necessity"),
        ("97", "coding"),
        ("22", "cob"),
        ("29", "timely_filing"),
        ("18", "duplicate"),
        ("B7", "credentialing"),
        ("204", "coverage"),
        ("119", "benefit_limit"),
        ("252", "documentation"),
        ("27", "eligibility"),
    ],
)
def test_the_migration_loads_the_domain_categories(code, category):
    reason = AdjustmentReason.objects.get(code=code)
    assert reason.kind == "denial" and reason.category == category


def test_patient_share_and_contractual_codes_are_not_denials():
    assert AdjustmentReason.objects.get(code="2").kind == "patient_share"
    assert AdjustmentReason.objects.get(code="45").kind == "contractual"
    assert RemarkCode.objects.get(code="M62").category == "authorization"


def test_running_the_data_migration_again_changes_nothing_and_unload_removes_only_its_codes():
    before = AdjustmentReason.objects.count()
    migration.load(apps, None)
    assert AdjustmentReason.objects.count() == before == len(migration.CARCS)
    migration.unload(apps, None)
    assert not AdjustmentReason.objects.exists() and not RemarkCode.objects.exists()
    migration.load(apps, None)
    assert RemarkCode.objects.count() == len(migration.RARCS)
