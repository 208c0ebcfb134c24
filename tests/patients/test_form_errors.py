"""The patient form shows every error at once, each beside its field (not one per submit)."""

from __future__ import annotations

from typing import Any

import pytest
from bs4 import BeautifulSoup

from patients import services
from patients.models import Patient
from rcm.tenancy.context import tenant_context
from tests.clock import days_from_now, today

pytestmark = pytest.mark.django_db


def test_every_error_of_the_patient_form_shows_beside_its_field(
    org: Any, biller: Any, client_for: Any
) -> None:
    with tenant_context(org):
        services.patient_create(
            today=today(), mrn="C-9", first_name="A", last_name="B", date_of_birth=today(), sex="F"
        )
    response = client_for(biller).post(
        "/o/riverbend/patients/new/",
        {
            "mrn": "C-9",
            "first_name": "Jane",
            "last_name": "Doe",
            "date_of_birth": str(days_from_now(3)),
            "sex": "F",
            "postal_code": "ABCDE",
            "phone": "12",
            "status": "active",
        },
    )
    assert response.status_code == 200
    soup = BeautifulSoup(response.content, "html.parser")
    for field in ("mrn", "date_of_birth", "postal_code", "phone"):
        error = soup.select_one(f"#id_{field}_error")
        assert error is not None and error.text.strip(), field
        # Beside its field: in the same .field block as the input.
        assert error.find_parent(class_="field").select_one(f"#id_{field}"), field
    with tenant_context(org):
        assert Patient.objects.count() == 1
