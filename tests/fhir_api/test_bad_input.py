"""Unknown search parameters and malformed values are a 400 OperationOutcome naming the
parameter, never a 500 nor a silently ignored filter; random parameters never break the API."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fhir_api.search import PARAMS, FhirError, parse_search
from tests.fhir_api.conftest import BASE, READ_ALL, validate

pytestmark = pytest.mark.django_db

BAD = [
    ("Patient", {"colour": "blue"}, "colour"),
    ("Patient", {"birthdate": "yesterday"}, "birthdate"),
    ("Patient", {"birthdate": "2026-02-30"}, "birthdate"),
    ("Patient", {"birthdate": "xx2026-01-01"}, "birthdate"),
    ("Patient", {"birthdate": "2026-01-01T10:00:00Z"}, "birthdate"),
    ("Patient", {"_id": "12345"}, "_id"),
    ("Patient", {"_count": "0"}, "_count"),
    ("Patient", {"_count": "201"}, "_count"),
    ("Patient", {"_count": "ten"}, "_count"),
    ("Patient", {"_offset": "-1"}, "_offset"),
    ("Patient", {"_offset": "99999999999999999999999"}, "_offset"),
    ("Patient", {"name:contains": "an"}, "name"),
    ("Patient", {"gender": "robot"}, "gender"),
    ("Patient", {"active": "yes"}, "active"),
    ("Patient", {"family": ""}, "family"),
    ("Patient", {"family": "x" * 500}, "family"),
    ("Patient", {"_format": "xml"}, "_format"),
    ("Claim", {"patient": "Practitioner/3f0e2b1a-1111-4222-8333-444455556666"}, "patient"),
    ("Claim", {"patient": "not-a-uuid"}, "patient"),
    ("Claim", {"status": "paid"}, "status"),
    ("Claim", {"status": "active,"}, "status"),
    ("Claim", {"created": "ge2026-13-01"}, "created"),
    ("Claim", {"_include": "Claim:patient"}, "_include"),
    ("ExplanationOfBenefit", {"service-date": "ab2026"}, "service-date"),
    ("Coverage", {"status": "\x00"}, None),
    ("Organization", {"type": "ins"}, "type"),
]


@pytest.mark.parametrize(("resource_type", "params", "named"), BAD)
def test_bad_search_input_is_a_400_operation_outcome_naming_it(
    org: Any, api_client_for: Any, resource_type: str, params: dict[str, str], named: str | None
) -> None:
    api = api_client_for(org, READ_ALL)
    response = api.get(f"{BASE}/{resource_type}", params)
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/fhir+json"
    body = response.json()
    validate(body)
    issue = body["issue"][0]
    assert issue["severity"] == "error"
    if named is not None:
        assert named in issue["diagnostics"]
        assert issue["expression"] == [named]


def test_unknown_types_and_paths_are_operation_outcomes(org: Any, api_client_for: Any) -> None:
    api = api_client_for(org, READ_ALL)
    for path in ("Observation", "Observation/1", "Patient/1/_history", ""):
        response = api.get(f"{BASE}/{path}")
        assert response.status_code == 404, path
        assert response.json()["resourceType"] == "OperationOutcome"
    response = api.post(f"{BASE}/Patient", {}, format="json")
    assert response.status_code == 405
    assert response.json()["resourceType"] == "OperationOutcome"


NAMES = st.one_of(
    st.sampled_from(sorted({name for params in PARAMS.values() for name in params})),
    st.sampled_from(["_count", "_offset", "_format", "_sort", "name:exact", "_id:missing"]),
    st.text(min_size=1, max_size=12),
)
VALUES = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["ge2026-01-01", "2026", "2026-02", "true", "active", "Patient/1", "-1"]),
    st.uuids().map(str),
)


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    resource_type=st.sampled_from(sorted(PARAMS)),
    pairs=st.lists(st.tuples(NAMES, VALUES), max_size=4),
)
def test_random_parameters_answer_a_bundle_or_an_operation_outcome(
    org: Any, api_client_for: Any, resource_type: str, pairs: list[tuple[str, str]]
) -> None:
    api = api_client_for(org, READ_ALL)
    query = "&".join(f"{_quote(name)}={_quote(value)}" for name, value in pairs)
    response = api.get(f"{BASE}/{resource_type}?{query}")
    assert response.status_code in {200, 400}, (query, response.content)
    body = response.json()
    assert body["resourceType"] == ("Bundle" if response.status_code == 200 else "OperationOutcome")


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")


@given(pairs=st.lists(st.tuples(st.text(max_size=10), st.text(max_size=20)), max_size=5))
def test_the_parser_accepts_or_names_what_it_refuses(pairs: list[tuple[str, str]]) -> None:
    """The pure parser: a Search, or a FhirError with a 400 — never another exception."""
    for resource_type in PARAMS:
        try:
            parse_search(resource_type, pairs)
        except FhirError as error:
            assert error.status == 400 and error.diagnostics
