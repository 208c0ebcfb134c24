"""Reading and searching the FHIR R4 API: every resource validates (fhir.resources), searches by
patient, date and status, paging with Bundle next links at a fixed number of queries, the scopes,
another clinic's ids (404) and 42 CFR Part 2 (withheld without the grant, labelled with it)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest

from patients import services as patient_services
from rcm.audit.models import AuditEvent
from rcm.tenancy.context import tenant_context
from tests import clock
from tests.fhir_api.conftest import BASE, READ_ALL, World, validate

pytestmark = pytest.mark.django_db

TYPES = [
    "Patient",
    "Coverage",
    "Claim",
    "ClaimResponse",
    "ExplanationOfBenefit",
    "Practitioner",
    "Organization",
]


def _bundle(api: Any, path: str, params: Any = None) -> dict[str, Any]:
    response = api.get(f"{BASE}/{path}", params or {})
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/fhir+json"
    body = response.json()
    validate(body)
    return body


def _ids(bundle: dict[str, Any]) -> set[str]:
    return {entry["resource"]["id"] for entry in bundle["entry"]}


def test_every_resource_type_reads_searches_and_validates_as_fhir(
    world: World, api_client_for: Any
) -> None:
    api = api_client_for(world.org, [*READ_ALL, "part2:read"])
    for resource_type in TYPES:
        bundle = _bundle(api, resource_type)
        assert bundle["type"] == "searchset"
        assert bundle["entry"], f"no {resource_type} in the search"
        assert bundle["total"] == len(bundle["entry"])
        for entry in bundle["entry"]:
            resource = entry["resource"]
            assert resource["resourceType"] == resource_type
            validate(resource)
            read = api.get(f"{BASE}/{resource_type}/{resource['id']}")
            assert read.status_code == 200, read.content
            assert read["Content-Type"] == "application/fhir+json"
            assert read.json() == resource
            assert entry["fullUrl"].endswith(f"/fhir/r4/{resource_type}/{resource['id']}")


def test_the_eob_carries_the_claim_and_the_payers_decision(
    world: World, api_client_for: Any
) -> None:
    api = api_client_for(world.org, READ_ALL)
    eob = api.get(f"{BASE}/ExplanationOfBenefit/{world.remittance.pk}").json()
    assert eob["claim"]["reference"] == f"Claim/{world.claim.pk}"
    assert eob["patient"]["reference"] == f"Patient/{world.patient.pk}"
    assert eob["identifier"][0]["value"] == world.claim.patient_control_number
    assert "C4BB-ExplanationOfBenefit" in eob["meta"]["profile"][0]
    line = eob["item"][0]
    codes = [a["category"]["coding"][0]["code"] for a in line["adjudication"]]
    assert "submitted" in codes and "paidtoprovider" in codes
    # The probe's remittance denies the line with CO-197: shown as the denial reason.
    reasons = [a["reason"]["coding"][0]["code"] for a in line["adjudication"] if "reason" in a]
    assert reasons == ["197"]
    response = api.get(f"{BASE}/ClaimResponse/{world.remittance.pk}").json()
    assert response["request"]["reference"] == f"Claim/{world.claim.pk}"
    assert response["disposition"] == "Denied"


def test_the_capability_statement_lists_every_type_and_validates(
    api_client_for: Any, org: Any
) -> None:
    from rest_framework.test import APIClient

    response = APIClient().get(f"{BASE}/metadata")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json"
    statement = response.json()
    validate(statement)
    listed = {r["type"] for r in statement["rest"][0]["resource"]}
    assert listed == set(TYPES)
    patient = next(r for r in statement["rest"][0]["resource"] if r["type"] == "Patient")
    assert {"name", "birthdate", "identifier"} <= {p["name"] for p in patient["searchParam"]}


def test_search_by_patient_date_and_status(world: World, api_client_for: Any) -> None:
    api = api_client_for(world.org, READ_ALL)
    patient = f"Patient/{world.patient.pk}"
    claims = _bundle(api, "Claim", {"patient": patient})
    assert str(world.claim.pk) in _ids(claims)
    assert all(e["resource"]["patient"]["reference"] == patient for e in claims["entry"])
    # Another patient of the clinic has none of these claims.
    with tenant_context(world.org):
        stranger = patient_services.patient_create(
            today=clock.today(), mrn="FHIR-2", first_name="Una", last_name="Other",
            date_of_birth=clock.years_ago(30), sex="F",
        )  # fmt: skip
    assert _bundle(api, "Claim", {"patient": str(stranger.pk)})["entry"] == []

    created = world.claim.created_at.date()
    on_day = _bundle(api, "Claim", {"created": created.isoformat()})
    assert str(world.claim.pk) in _ids(on_day)
    after = (created + timedelta(days=1)).isoformat()
    assert _bundle(api, "Claim", {"created": f"ge{after}"})["entry"] == []
    assert str(world.claim.pk) in _ids(
        _bundle(api, "Claim", [("created", f"lt{after}"), ("created", f"ge{created:%Y-%m}")])
    )

    status = next(e for e in claims["entry"] if e["resource"]["id"] == str(world.claim.pk))
    fhir_status = status["resource"]["status"]
    assert str(world.claim.pk) in _ids(_bundle(api, "Claim", {"status": fhir_status}))
    other = "cancelled" if fhir_status != "cancelled" else "draft"
    assert str(world.claim.pk) not in _ids(_bundle(api, "Claim", {"status": other}))

    coverages = _bundle(api, "Coverage", {"beneficiary": patient, "status": "active"})
    assert coverages["entry"]
    assert all(e["resource"]["status"] == "active" for e in coverages["entry"])

    service_day = world.claim.statement_from.isoformat()
    eobs = _bundle(api, "ExplanationOfBenefit", {"patient": patient, "service-date": service_day})
    assert str(world.remittance.pk) in _ids(eobs)
    people = _bundle(api, "Patient", {"family": world.patient.last_name[:3].lower()})
    assert str(world.patient.pk) in _ids(people)
    assert _bundle(api, "Patient", {"birthdate": "1850"})["entry"] == []


def test_paging_follows_next_links_at_a_fixed_number_of_queries(
    world: World, api_client_for: Any, django_assert_max_num_queries: Any
) -> None:
    with tenant_context(world.org):
        for n in range(7):
            patient_services.patient_create(
                today=clock.today(), mrn=f"PAGE-{n}", first_name=f"Page{n}", last_name="Paging",
                date_of_birth=clock.years_ago(20 + n), sex="U",
            )  # fmt: skip
    api = api_client_for(world.org, READ_ALL)
    seen: list[str] = []
    url: str | None = f"{BASE}/Patient?family=Paging&_count=3"
    pages = 0
    while url:
        with django_assert_max_num_queries(12):
            response = api.get(url)
        assert response.status_code == 200
        bundle = response.json()
        assert bundle["total"] == 7
        seen += [e["resource"]["id"] for e in bundle["entry"]]
        nexts = [link["url"] for link in bundle["link"] if link["relation"] == "next"]
        url = None
        if nexts:
            parts = urlsplit(nexts[0])
            url = f"{parts.path}?{parts.query}"
        pages += 1
    assert pages == 3
    assert len(seen) == len(set(seen)) == 7

    # A page of claims, responses and EOBs costs the same however many rows it shows.
    for resource_type in ("Claim", "ExplanationOfBenefit", "ClaimResponse", "Coverage"):
        with django_assert_max_num_queries(14):
            assert api.get(f"{BASE}/{resource_type}", {"_count": 200}).status_code == 200


def test_another_clinics_ids_are_404_operation_outcomes(world: World, api_client_for: Any) -> None:
    api = api_client_for(world.org, [*READ_ALL, "part2:read"])
    for path in (
        f"Patient/{world.other_patient.pk}",
        f"Claim/{world.other_claim.pk}",
        f"Organization/{world.other_org.pk}",
        "Patient/not-an-id",
    ):
        response = api.get(f"{BASE}/{path}")
        assert response.status_code == 404, path
        body = response.json()
        validate(body)
        assert body["resourceType"] == "OperationOutcome"
        assert body["issue"][0]["code"] == "not-found"
    # A search naming their patient finds nothing of theirs.
    bundle = _bundle(api, "Claim", {"patient": str(world.other_patient.pk)})
    assert bundle["entry"] == [] and bundle["total"] == 0


def test_scopes_and_authentication(world: World, api_client_for: Any) -> None:
    from rest_framework.test import APIClient

    anonymous = APIClient().get(f"{BASE}/Patient")
    assert anonymous.status_code == 401
    assert anonymous.json()["resourceType"] == "OperationOutcome"
    credentialing = api_client_for(world.org, ["credentialing:read"])
    refused = credentialing.get(f"{BASE}/Patient/{world.patient.pk}")
    assert refused.status_code == 403
    assert "patients:read" in refused.json()["issue"][0]["diagnostics"]
    assert credentialing.get(f"{BASE}/Practitioner").status_code == 200
    assert credentialing.get(f"{BASE}/ExplanationOfBenefit").status_code == 403


def test_a_signed_in_member_reads_with_the_organization_header(
    world: World, biller: Any, manager: Any, client_for: Any
) -> None:
    header = {"X-Organization": world.org.slug}
    client = client_for(manager)
    response = client.get(f"{BASE}/Patient/{world.patient.pk}", headers=header)
    assert response.status_code == 200
    assert response.json()["id"] == str(world.patient.pk)
    # Mona has no Part 2 grant: the SUD claim is withheld; Bill has it.
    assert client.get(f"{BASE}/Claim/{world.part2_claim.pk}", headers=header).status_code == 404
    granted = client_for(biller).get(f"{BASE}/Claim/{world.part2_claim.pk}", headers=header)
    assert granted.status_code == 200
    # Without naming the organization, a session reaches nothing.
    assert client.get(f"{BASE}/Patient/{world.patient.pk}").status_code == 401


def test_part2_records_are_withheld_without_the_grant_and_labelled_with_it(
    world: World, api_client_for: Any
) -> None:
    without = api_client_for(world.org, READ_ALL)
    for path in (
        f"Claim/{world.part2_claim.pk}",
        f"ClaimResponse/{world.part2_remittance.pk}",
        f"ExplanationOfBenefit/{world.part2_remittance.pk}",
    ):
        assert without.get(f"{BASE}/{path}").status_code == 404, path
    for resource_type, hidden_id in (
        ("Claim", world.part2_claim.pk),
        ("ExplanationOfBenefit", world.part2_remittance.pk),
        ("ClaimResponse", world.part2_remittance.pk),
    ):
        response = without.get(f"{BASE}/{resource_type}")
        assert str(hidden_id) not in _ids(response.json())
        assert response["X-Part2-Hidden"] == "1"

    granted = api_client_for(world.org, [*READ_ALL, "part2:read"])
    claim = granted.get(f"{BASE}/Claim/{world.part2_claim.pk}").json()
    codes = {s["code"] for s in claim["meta"]["security"]}
    assert "42CFRPart2" in codes
    eob = granted.get(f"{BASE}/ExplanationOfBenefit/{world.part2_remittance.pk}").json()
    assert "42CFRPart2" in {s["code"] for s in eob["meta"]["security"]}
    plain = granted.get(f"{BASE}/Claim/{world.claim.pk}").json()
    assert "security" not in plain["meta"]
    response = granted.get(f"{BASE}/Claim")
    assert str(world.part2_claim.pk) in _ids(response.json())
    assert response["X-Part2-Hidden"] == "0"


def test_reads_and_searches_are_audited_with_their_patients(
    world: World, api_client_for: Any
) -> None:
    api = api_client_for(world.org, [*READ_ALL, "part2:read"])
    api.get(f"{BASE}/Claim/{world.part2_claim.pk}")
    api.get(f"{BASE}/Patient", {"family": world.patient.last_name})
    with tenant_context(world.org):
        view = AuditEvent.objects.get(action="view", object_type="claims.claim")
        search = AuditEvent.objects.get(action="search", object_type="patients.patient")
    assert view.object_id == str(world.part2_claim.pk)
    assert view.patient_id == world.patient.pk and view.part2 is True
    assert str(world.patient.pk) in search.detail["patient_ids"]
    assert world.patient.last_name not in str(search.detail)
