"""Small things a biller notices: the work queue's patient and payer columns, bulk assign that
starts on "Choose…" (an untouched menu unassigns nobody) with no duplicate element id, a new
member's role that starts least-privileged, and the CSV import template on the import page."""

from __future__ import annotations

import csv
import io

import pytest
from bs4 import BeautifulSoup
from django.core.files.uploadedfile import SimpleUploadedFile

from denials.models import WorkItem
from patients.models import Patient
from rcm.tenancy.context import tenant_context
from rcm.tenancy.permissions import LEAST_PRIVILEGED_ROLE, ROLE_SCOPES, Role
from tests.denials.test_views import denial  # noqa: F401  (fixture re-export)

pytestmark = pytest.mark.django_db
QUEUE = "/o/riverbend/denials/"


def test_the_queue_shows_each_items_patient_and_payer(denial, biller, client_for):  # noqa: F811
    soup = BeautifulSoup(client_for(biller).get(QUEUE).content, "html.parser")
    headers = [th.text for th in soup.select("#work-queue thead th")]
    assert "Patient" in headers and "Payer" in headers
    row = soup.select_one("#work-queue tbody tr")
    cells = [td.text.strip() for td in row.find_all("td")]
    assert cells[headers.index("Patient")] == "Doe, Jane"
    assert cells[headers.index("Payer")] == "Blue Plan"


def test_bulk_assign_starts_on_choose_and_has_no_duplicate_ids(
    denial,  # noqa: F811
    biller,
    client_for,
):
    client = client_for(biller)
    soup = BeautifulSoup(client.get(QUEUE).content, "html.parser")
    ids = [el["id"] for el in soup.select("[id]")]
    assert len(ids) == len(set(ids))
    menu = soup.select_one("#bulk-assign select[name=assignee]")
    assert menu.find("option")["value"] == "" and "Choose" in menu.find("option").text
    assert soup.select_one(f'label[for="{menu["id"]}"]') is not None
    with tenant_context(denial.organization_id):
        item = WorkItem.objects.get()
    client.post("/o/riverbend/denials/assign/", {"items": [item.pk], "assignee": biller.pk})
    # Left on "Choose…": refused, the item keeps its assignee.
    response = client.post(
        "/o/riverbend/denials/assign/", {"items": [item.pk], "assignee": ""}, follow=True
    )
    assert "Choose who gets the selected items" in response.content.decode()
    with tenant_context(denial.organization_id):
        item.refresh_from_db()
        assert item.assignee == biller
    client.post("/o/riverbend/denials/assign/", {"items": [item.pk], "assignee": "none"})
    with tenant_context(denial.organization_id):
        item.refresh_from_db()
        assert item.assignee is None


def test_a_new_members_role_starts_least_privileged(owner, client_for):
    fewest = min(len(scopes) for scopes in ROLE_SCOPES.values())
    assert len(ROLE_SCOPES[LEAST_PRIVILEGED_ROLE]) == fewest
    assert LEAST_PRIVILEGED_ROLE != Role.OWNER
    soup = BeautifulSoup(
        client_for(owner).get("/o/riverbend/settings/members/").content, "html.parser"
    )
    selected = soup.select_one("select[name=role] option[selected]")
    assert selected is not None and selected["value"] == LEAST_PRIVILEGED_ROLE


def test_the_import_template_downloads_and_imports_as_it_is(org, biller, client_for):
    client = client_for(biller)
    page = BeautifulSoup(client.get("/o/riverbend/patients/import/").content, "html.parser")
    link = page.select_one("#import-template")
    template = client.get(link["href"])
    assert template.status_code == 200 and template["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(template.content.decode())))
    assert rows[0][:5] == ["mrn", "first_name", "middle_name", "last_name", "preferred_name"]
    upload = SimpleUploadedFile("template.csv", template.content)
    assert client.post("/o/riverbend/patients/import/", {"file": upload}).status_code == 200
    with tenant_context(org):
        assert Patient.objects.filter(mrn="EXAMPLE-1").exists()
