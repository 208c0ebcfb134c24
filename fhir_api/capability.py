"""The CapabilityStatement (`GET /fhir/r4/metadata`): what this server reads and searches, built
from the same tables the views use, so it cannot drift from them."""

from __future__ import annotations

from typing import Any

from fhir_api import resources, selectors
from fhir_api.search import PARAMS

SEARCH_TYPES = {
    "id": "token",
    "token": "token",
    "string": "string",
    "date": "date",
    "reference": "reference",
    "boolean": "token",
}

SMART_SECURITY = "http://terminology.hl7.org/CodeSystem/restful-security-service"


def capability_statement(base: str) -> dict[str, Any]:
    rest_resources = []
    for resource_type in selectors.RESOURCE_TYPES:
        entry: dict[str, Any] = {
            "type": resource_type,
            "interaction": [{"code": "read"}, {"code": "search-type"}],
            "readHistory": False,
            "updateCreate": False,
            "searchParam": [
                {"name": name, "type": SEARCH_TYPES[kind]}
                for name, kind in PARAMS[resource_type].items()
            ],
        }
        if resource_type == "ExplanationOfBenefit":
            entry["supportedProfile"] = [resources.CARIN_EOB_PROFESSIONAL]
        if resource_type == "Patient":
            entry["operation"] = [
                {
                    "name": "export",
                    "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export",
                }
            ]
        rest_resources.append(entry)
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-12-08",
        "publisher": "Parity",
        "kind": "instance",
        "software": {"name": "Parity"},
        "implementation": {"description": "Parity FHIR R4 read API", "url": base},
        "fhirVersion": resources.FHIR_VERSION,
        "format": ["application/fhir+json", "json"],
        "rest": [
            {
                "mode": "server",
                "documentation": (
                    "Read and search with a Parity API key (Authorization: Bearer <key>); each "
                    "resource type needs the read scope of its area. 42 CFR Part 2 records need "
                    "part2:read and carry the 42CFRPart2 security label."
                ),
                "security": {
                    "cors": False,
                    "service": [
                        {
                            "coding": [{"system": SMART_SECURITY, "code": "OAuth"}],
                            "text": "Bearer API keys (not OAuth): see docs/integration.md",
                        }
                    ],
                },
                "resource": rest_resources,
                "operation": [
                    {
                        "name": "export",
                        "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export",
                    }
                ],
            }
        ],
    }
