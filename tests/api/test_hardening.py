"""Inputs that once made the API answer 500 (issue 16): each is now a 4xx problem+json that
names the field or row, and an operation without an update service offers no PATCH."""

from __future__ import annotations

import io
from typing import Any

import pytest

from rcm.tenancy.context import tenant_context
from tests.patients.factories import ConsentFactory, PayerFactory

API = "/api/v1"
PROBLEM = "application/problem+json"


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["detail"]
    return body


def _fields(body: dict[str, Any]) -> set[str | None]:
    return {error["field"] for error in body.get("errors", [])}


@pytest.mark.parametrize(
    "path",
    [
        "charges",
        "consents",
        "diagnoses",
        "episodes",
        "verifications",
        "fee-schedule/charges",
        "fee-schedule/contract-rates",
    ],
)
def test_an_operation_without_an_update_service_answers_patch_with_405(
    org: Any, api_client_for: Any, path: str
) -> None:
    api = api_client_for(org)
    response = api.patch(f"{API}/{path}/00000000-0000-4000-8000-000000000001/", {}, format="json")
    _problem(response, 405)
    assert api.put(f"{API}/{path}/00000000-0000-4000-8000-000000000001/", {}).status_code == 405


def test_the_schema_documents_patch_only_where_there_is_an_update_service(
    org: Any, api_client_for: Any
) -> None:
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    assert "patch" not in paths["/api/v1/consents/{id}/"]
    assert "patch" not in paths["/api/v1/fee-schedule/contract-rates/{id}/"]
    assert "patch" in paths["/api/v1/payers/{id}/"]


def test_a_payer_patch_still_goes_through_its_service(org: Any, api_client_for: Any) -> None:
    with tenant_context(org):
        payer = PayerFactory(organization=org, name="Old name")
    response = api_client_for(org).patch(
        f"{API}/payers/{payer.pk}/", {"name": "New name"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "New name"


@pytest.mark.parametrize("path", ["patients/?q=a%00b", "claims/?status=%00", "payers/?x%00=1"])
def test_a_nul_character_in_a_query_parameter_is_a_400_naming_it(
    org: Any, api_client_for: Any, path: str
) -> None:
    body = _problem(api_client_for(org).get(f"{API}/{path}"), 400)
    assert body["errors"][0]["code"] == "null_characters"
    assert body["errors"][0]["field"] in {"q", "status", "x\\u0000"}


def test_an_integer_past_64_bits_in_a_filter_is_a_400_naming_it(
    org: Any, api_client_for: Any
) -> None:
    api = api_client_for(org)
    body = _problem(api.get(f"{API}/authorizations/", {"expiring_within": 2**70}), 400)
    assert _fields(body) == {"expiring_within"}
    body = _problem(api.get(f"{API}/payers/", {"page_size": 2**70}), 400)
    assert _fields(body) == {"page_size"}


def test_an_integer_past_64_bits_in_a_body_is_a_400_naming_the_field(
    org: Any, api_client_for: Any
) -> None:
    body = _problem(
        api_client_for(org).post(
            f"{API}/payers/",
            {
                "name": "Big",
                "payer_id": "B1",
                "payer_type": "commercial",
                "timely_filing_days": 2**70,
            },
            format="json",
        ),
        400,
    )
    assert "timely_filing_days" in _fields(body)


def test_a_duplicate_payer_is_a_409_naming_the_unique_fields(org: Any, api_client_for: Any) -> None:
    api = api_client_for(org)
    payer = {"name": "Acme Health", "payer_id": "ACME1", "payer_type": "commercial"}
    assert api.post(f"{API}/payers/", payer, format="json").status_code == 201
    body = _problem(api.post(f"{API}/payers/", payer, format="json"), 409)
    assert _fields(body) == {"payer_id", "name"}
    # The request's transaction was only rolled back to before the insert: the API still answers.
    assert api.get(f"{API}/payers/").status_code == 200


@pytest.mark.parametrize("body", ["false", "[]", '"revoke"', "1"])
def test_a_body_that_is_not_a_json_object_is_a_400(
    org: Any, api_client_for: Any, body: str
) -> None:
    with tenant_context(org):
        consent = ConsentFactory(organization=org)
    response = api_client_for(org).generic(
        "POST", f"{API}/consents/{consent.pk}/revoke/", body, content_type="application/json"
    )
    assert "JSON object" in _problem(response, 400)["detail"]


def test_json_nested_ten_thousand_deep_is_a_400(org: Any, api_client_for: Any) -> None:
    nested = "[" * 10_000 + "]" * 10_000
    response = api_client_for(org).generic(
        "POST", f"{API}/payers/", '{"name": ' + nested + "}", content_type="application/json"
    )
    assert "nested too deeply" in _problem(response, 400)["detail"]


def test_a_csv_import_with_a_200_kb_field_is_a_400_naming_the_row(
    org: Any, biller: Any, client_for: Any
) -> None:
    from patients.importer import COLUMNS

    header = ",".join(COLUMNS)
    text = f"{header}\r\n" + "x" * 200_000 + "\r\n"
    upload = io.BytesIO(text.encode())
    upload.name = "patients.csv"
    response = client_for(biller).post("/o/riverbend/patients/import/", {"file": upload})
    assert response.status_code == 400
    page = response.content.decode()
    # The problems table: row, column, message.
    assert "<tr><td>2</td><td></td><td>cannot be read: field larger than field limit" in page


def test_the_schema_documents_problem_responses(org: Any) -> None:
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    create = schema["paths"]["/api/v1/payers/"]["post"]["responses"]
    assert {"400", "401", "403", "409", "415"} <= set(create)
    assert "application/problem+json" in create["409"]["content"]
    assert "404" in schema["paths"]["/api/v1/payers/{id}/"]["get"]["responses"]


def test_a_number_for_a_text_field_or_a_boolean_is_a_400_naming_the_field(
    org: Any, api_client_for: Any
) -> None:
    api = api_client_for(org)
    payer = {"name": 12345, "payer_id": "N1", "payer_type": "commercial"}
    assert _fields(_problem(api.post(f"{API}/payers/", payer, format="json"), 400)) == {"name"}
    payer = {"name": "Numbers", "payer_id": "N1", "payer_type": "commercial", "is_active": 0}
    assert "is_active" in _fields(_problem(api.post(f"{API}/payers/", payer, format="json"), 400))


def test_an_unknown_filter_value_is_a_400_not_ignored(org: Any, api_client_for: Any) -> None:
    api = api_client_for(org)
    body = _problem(api.get(f"{API}/remittance-exceptions/", {"status": "AAA"}), 400)
    assert _fields(body) == {"status"}
    assert _fields(_problem(api.get(f"{API}/coverages/", {"patient": ""}), 400)) == {"patient"}
