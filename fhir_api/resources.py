"""Our records as FHIR R4 resources (JSON dicts), one function per resource type.

Each function reads only the row and the relations its selector loads (select_related /
prefetch_related), so a page of resources costs a fixed number of queries. Ids are our UUIDs.
ExplanationOfBenefit follows the CARIN Blue Button professional profile where our data fits it
(adjudication categories, the `uc` identifier, the payer as insurer); ClaimResponse is the same
adjudication in the base resource's shape. A 42 CFR Part 2 record carries the `42CFRPart2`
security label (and restricted confidentiality) in `meta.security`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from rcm import part2

FHIR_VERSION = "4.0.1"

ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
CONFIDENTIALITY = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
PART2_SECURITY = [
    {"system": ACT_CODE, "code": "42CFRPart2", "display": "42 CFR Part2"},
    {"system": CONFIDENTIALITY, "code": "R", "display": "restricted"},
]

NPI = "http://hl7.org/fhir/sid/us-npi"
EIN = "urn:oid:2.16.840.1.113883.4.4"
IDENTIFIER_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"
CARIN_IDENTIFIER_TYPE = "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBIdentifierType"
CARIN_ADJUDICATION = "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBAdjudication"
CARIN_DISCRIMINATOR = "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBAdjudicationDiscriminator"
CARIN_PAYEE_TYPE = "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBPayeeType"
CARIN_EOB_PROFESSIONAL = (
    "http://hl7.org/fhir/us/carin-bb/StructureDefinition/"
    "C4BB-ExplanationOfBenefit-Professional-NonClinician"
)
ADJUDICATION = "http://terminology.hl7.org/CodeSystem/adjudication"
CLAIM_TYPE = "http://terminology.hl7.org/CodeSystem/claim-type"
PROCESS_PRIORITY = "http://terminology.hl7.org/CodeSystem/processpriority"
CPT = "http://www.ama-assn.org/go/cpt"
HCPCS = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
CARC = "https://x12.org/codes/claim-adjustment-reason-codes"
POS = "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set"
ORGANIZATION_TYPE = "http://terminology.hl7.org/CodeSystem/organization-type"
COVERAGE_CLASS = "http://terminology.hl7.org/CodeSystem/coverage-class"
SUBSCRIBER_RELATIONSHIP = "http://terminology.hl7.org/CodeSystem/subscriber-relationship"

GENDER = {"F": "female", "M": "male", "U": "unknown"}
# X12 individual relationship codes -> FHIR subscriber-relationship.
RELATIONSHIP = {"18": "self", "01": "spouse", "19": "child", "G8": "other"}

# Our claim statuses -> FHIR Claim.status / ExplanationOfBenefit.status (financial resource
# status: active | cancelled | draft | entered-in-error).
CLAIM_STATUS = {"draft": "draft", "ready": "draft", "void": "cancelled"}


def claim_fhir_status(status: str) -> str:
    return CLAIM_STATUS.get(status, "active")


def _urn(org: Any, what: str) -> str:
    """Our own identifier systems: one URN per organization and kind (MRN, claim number)."""
    return f"urn:parity:{org.slug}:{what}"


def _meta(obj: Any, *, part2_record: bool = False, profile: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    updated = getattr(obj, "updated_at", None) or getattr(obj, "created_at", None)
    if updated is not None:
        meta["lastUpdated"] = instant(updated)
    if profile:
        meta["profile"] = [profile]
    if part2_record:
        meta["security"] = [dict(label) for label in PART2_SECURITY]
    return meta


def instant(value: datetime) -> str:
    return value.isoformat(timespec="seconds")


def day(value: date) -> str:
    return value.isoformat()


def money(value: Decimal | None) -> dict[str, Any]:
    """FHIR Money: a JSON number (our amounts have two places, so a float prints them exactly)
    in US dollars."""
    amount = Decimal("0") if value is None else value
    return {"value": float(amount), "currency": "USD"}


def ref(resource_type: str, pk: Any, display: str = "") -> dict[str, Any]:
    reference: dict[str, Any] = {"reference": f"{resource_type}/{pk}"}
    if display:
        reference["display"] = display
    return reference


def _address(
    line1: str, line2: str, city: str, state: str, postal_code: str, *, use: str = "work"
) -> list[Any]:
    lines = [line for line in (line1, line2) if line]
    if not (lines or city or state or postal_code):
        return []
    address: dict[str, Any] = {"use": use}
    if lines:
        address["line"] = lines
    for key, value in (("city", city), ("state", state), ("postalCode", postal_code)):
        if value:
            address[key] = value
    address["country"] = "US"
    return [address]


def _telecom(phone: str = "", email: str = "") -> list[dict[str, Any]]:
    telecom = []
    if phone:
        telecom.append({"system": "phone", "value": phone})
    if email:
        telecom.append({"system": "email", "value": email})
    return telecom


def _code(system: str, code: str, display: str = "") -> dict[str, Any]:
    coding: dict[str, Any] = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return {"coding": [coding]}


def _procedure_system(code: str) -> str:
    return CPT if code[:1].isdigit() else HCPCS


def patient(obj: Any, org: Any) -> dict[str, Any]:
    name: dict[str, Any] = {"use": "official", "family": obj.last_name}
    name["given"] = [n for n in (obj.first_name, obj.middle_name) if n]
    names = [name]
    if obj.preferred_name:
        names.append({"use": "usual", "given": [obj.preferred_name], "family": obj.last_name})
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": str(obj.pk),
        "meta": _meta(obj),
        "identifier": [
            {
                "type": _code(IDENTIFIER_TYPE, "MR", "Medical record number"),
                "system": _urn(org, "mrn"),
                "value": obj.mrn,
            }
        ],
        "active": obj.status == "active",
        "name": names,
        "gender": GENDER.get(obj.sex, "unknown"),
        "birthDate": day(obj.date_of_birth),
        "managingOrganization": ref("Organization", org.pk, org.name),
    }
    telecom = _telecom(obj.phone, obj.email)
    if telecom:
        resource["telecom"] = telecom
    address = _address(
        obj.address_line1, obj.address_line2, obj.city, obj.state, obj.postal_code, use="home"
    )
    if address:
        resource["address"] = address
    return resource


def coverage(obj: Any, org: Any, *, today: date) -> dict[str, Any]:
    active = obj.termination_date is None or obj.termination_date >= today
    period: dict[str, Any] = {"start": day(obj.effective_date)}
    if obj.termination_date:
        period["end"] = day(obj.termination_date)
    relationship = RELATIONSHIP.get(obj.relationship, "other")
    resource: dict[str, Any] = {
        "resourceType": "Coverage",
        "id": str(obj.pk),
        "meta": _meta(obj),
        "identifier": [
            {
                "type": _code(IDENTIFIER_TYPE, "MB", "Member Number"),
                "value": obj.member_id,
            }
        ],
        "status": "active" if active else "cancelled",
        "subscriberId": obj.member_id,
        "beneficiary": ref("Patient", obj.patient_id),
        "relationship": _code(SUBSCRIBER_RELATIONSHIP, relationship),
        "period": period,
        "payor": [ref("Organization", obj.payer_id, obj.payer.name)],
        "order": obj.priority,
    }
    classes = []
    if obj.group_number:
        classes.append({"type": _code(COVERAGE_CLASS, "group"), "value": obj.group_number})
    if obj.plan_name:
        classes.append(
            {"type": _code(COVERAGE_CLASS, "plan"), "value": obj.plan_name, "name": obj.plan_name}
        )
    if classes:
        resource["class"] = classes
    return resource


def practitioner(obj: Any, *, today: date) -> dict[str, Any]:
    active = obj.active_from <= today and (obj.active_until is None or obj.active_until >= today)
    name: dict[str, Any] = {"use": "official", "family": obj.last_name, "given": [obj.first_name]}
    if obj.credentials_suffix:
        name["suffix"] = [obj.credentials_suffix]
    return {
        "resourceType": "Practitioner",
        "id": str(obj.pk),
        "meta": _meta(obj),
        "identifier": [{"system": NPI, "value": obj.npi}],
        "active": active,
        "name": [name],
        "qualification": [
            {
                "code": {
                    "coding": [
                        {
                            "system": "http://nucc.org/provider-taxonomy",
                            "code": obj.taxonomy_code,
                        }
                    ],
                    "text": obj.get_provider_type_display(),
                }
            }
        ],
    }


def organization_tenant(org: Any) -> dict[str, Any]:
    """The clinic itself: the billing provider on every claim."""
    identifiers = []
    if org.group_npi:
        identifiers.append({"system": NPI, "value": org.group_npi})
    if org.tax_id:
        identifiers.append({"system": EIN, "value": org.tax_id})
    resource: dict[str, Any] = {
        "resourceType": "Organization",
        "id": str(org.pk),
        "meta": {"lastUpdated": instant(org.created_at)},
        "active": org.is_active,
        "type": [_code(ORGANIZATION_TYPE, "prov", "Healthcare Provider")],
        "name": org.name,
    }
    if identifiers:
        resource["identifier"] = identifiers
    telecom = _telecom(org.phone)
    if telecom:
        resource["telecom"] = telecom
    address = _address(org.address_line1, org.address_line2, org.city, org.state, org.postal_code)
    if address:
        resource["address"] = address
    return resource


def organization_payer(obj: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Organization",
        "id": str(obj.pk),
        "meta": _meta(obj),
        "identifier": [{"type": _code(IDENTIFIER_TYPE, "XX"), "value": obj.payer_id}],
        "active": obj.is_active,
        "type": [_code(ORGANIZATION_TYPE, "pay", "Payer")],
        "name": obj.name,
    }
    telecom = _telecom(obj.phone)
    if telecom:
        resource["telecom"] = telecom
    address = _address(obj.address_line1, obj.address_line2, obj.city, obj.state, obj.postal_code)
    if address:
        resource["address"] = address
    return resource


def _claim_type(claim: Any) -> dict[str, Any]:
    if claim.claim_form == "837I":
        return _code(CLAIM_TYPE, "institutional", "Institutional")
    return _code(CLAIM_TYPE, "professional", "Professional")


def _diagnoses(claim: Any) -> list[dict[str, Any]]:
    return [
        {
            "sequence": position,
            "diagnosisCodeableConcept": _code(ICD10CM, code),
        }
        for position, code in enumerate(claim.diagnosis_codes or [], start=1)
    ]


def _claim_identifier(claim: Any, org: Any) -> dict[str, Any]:
    return {
        "type": _code(CARIN_IDENTIFIER_TYPE, "uc", "Unique Claim ID"),
        "system": _urn(org, "claim"),
        "value": claim.patient_control_number,
    }


def _line_item(line: Any) -> dict[str, Any]:
    product: dict[str, Any] = _code(_procedure_system(line.service_code), line.service_code)
    item: dict[str, Any] = {
        "sequence": line.line_number,
        "productOrService": product,
        "servicedDate": day(line.date_of_service),
        "locationCodeableConcept": _code(POS, line.place_of_service),
        "quantity": {"value": line.units},
        "net": money(line.charge),
    }
    if line.modifiers:
        item["modifier"] = [
            _code("http://www.ama-assn.org/go/cpt-modifier", m) for m in line.modifiers if m
        ]
    pointers = [p for p in line.diagnosis_pointers or [] if isinstance(p, int) and p > 0]
    if pointers:
        item["diagnosisSequence"] = pointers
    if line.revenue_code:
        item["revenue"] = _code("https://www.nubc.org/CodeSystem/RevenueCodes", line.revenue_code)
    return item


def _lines(claim: Any) -> list[Any]:
    return sorted(claim.lines.all(), key=lambda line: line.line_number)


def claim(obj: Any, org: Any) -> dict[str, Any]:
    items = [_line_item(line) for line in _lines(obj)]
    resource: dict[str, Any] = {
        "resourceType": "Claim",
        "id": str(obj.pk),
        "meta": _meta(obj, part2_record=part2.is_part2(obj)),
        "identifier": [_claim_identifier(obj, org)],
        "status": claim_fhir_status(obj.status),
        "type": _claim_type(obj),
        "use": "claim",
        "patient": ref("Patient", obj.patient_id),
        "billablePeriod": {"start": day(obj.statement_from), "end": day(obj.statement_to)},
        "created": instant(obj.created_at),
        "insurer": ref("Organization", obj.payer_id),
        "provider": ref("Organization", org.pk, org.name),
        "priority": _code(PROCESS_PRIORITY, "normal"),
        "careTeam": [
            {
                "sequence": 1,
                "provider": ref("Practitioner", obj.rendering_provider_id),
                "role": _code("http://terminology.hl7.org/CodeSystem/claimcareteamrole", "primary"),
            }
        ],
        "insurance": [{"sequence": 1, "focal": True, "coverage": ref("Coverage", obj.coverage_id)}],
        "total": money(obj.total_charge),
    }
    diagnoses = _diagnoses(obj)
    if diagnoses:
        resource["diagnosis"] = diagnoses
    if items:
        for item in items:
            item["careTeamSequence"] = [1]
        resource["item"] = items
    if obj.prior_authorization_number:
        resource["insurance"][0]["preAuthRef"] = [obj.prior_authorization_number]
    if obj.original_claim_id:
        resource["related"] = [
            {
                "claim": ref("Claim", obj.original_claim_id),
                "relationship": _code(
                    "http://terminology.hl7.org/CodeSystem/ex-relatedclaimrelationship", "prior"
                ),
            }
        ]
    return resource


def _adjudication(category_system: str, code: str, amount: Decimal | None) -> dict[str, Any]:
    return {"category": _code(category_system, code), "amount": money(amount)}


def _reason_adjudications(adjustments: Iterable[Any]) -> list[dict[str, Any]]:
    """CAS adjustments as CARIN `denialreason` adjudications: the group code and CARC."""
    return [
        {
            "category": _code(CARIN_DISCRIMINATOR, "denialreason"),
            "reason": _code(CARC, adj.reason_code, f"{adj.group_code}-{adj.reason_code}"),
            "amount": money(adj.amount),
        }
        for adj in adjustments
    ]


def _line_adjudications(line: Any, adjustments: list[Any]) -> list[dict[str, Any]]:
    adjudications = [
        _adjudication(ADJUDICATION, "submitted", line.charge),
        _adjudication(CARIN_ADJUDICATION, "paidtoprovider", line.paid),
    ]
    if line.allowed is not None:
        adjudications.insert(1, _adjudication(ADJUDICATION, "eligible", line.allowed))
    return adjudications + _reason_adjudications(adjustments)


def _remit_lines(rc: Any) -> list[tuple[Any, list[Any]]]:
    """The remittance's lines with their adjustments (both prefetched), in segment order."""
    adjustments = list(rc.adjustments.all())
    lines = sorted(rc.lines.all(), key=lambda line: line.segment_position)
    return [(line, [a for a in adjustments if a.remittance_line_id == line.pk]) for line in lines]


def _claim_level_adjustments(rc: Any) -> list[Any]:
    return [a for a in rc.adjustments.all() if a.remittance_line_id is None]


def _response_items(rc: Any) -> list[dict[str, Any]]:
    items = []
    for sequence, (line, adjustments) in enumerate(_remit_lines(rc), start=1):
        number = line.claim_line.line_number if line.claim_line_id and line.claim_line else None
        items.append(
            {
                "itemSequence": number or sequence,
                "adjudication": _line_adjudications(line, adjustments),
            }
        )
    return items


def _totals(rc: Any) -> list[dict[str, Any]]:
    return [
        _adjudication(ADJUDICATION, "submitted", rc.charge),
        _adjudication(CARIN_ADJUDICATION, "paidtoprovider", rc.paid),
        _adjudication(CARIN_ADJUDICATION, "memberliability", rc.patient_responsibility),
    ]


def _disposition(rc: Any) -> str:
    return rc.status_wording or f"CLP status {rc.status_code}"


def _payment(rc: Any) -> dict[str, Any]:
    payment: dict[str, Any] = {"amount": money(rc.paid)}
    if rc.payment.payment_date:
        payment["date"] = day(rc.payment.payment_date)
    if rc.payment.trace_number:
        payment["identifier"] = {"value": rc.payment.trace_number}
    return payment


def _insurer(rc: Any) -> dict[str, Any]:
    return ref("Organization", rc.claim.payer_id)


def claim_response(rc: Any, org: Any) -> dict[str, Any]:
    """One payer decision (an 835 CLP) on one of our claims."""
    resource: dict[str, Any] = {
        "resourceType": "ClaimResponse",
        "id": str(rc.pk),
        "meta": _meta(rc, part2_record=part2.is_part2(rc)),
        "status": "active",
        "type": _claim_type(rc.claim),
        "use": "claim",
        "patient": ref("Patient", rc.claim.patient_id),
        "created": instant(rc.created_at),
        "insurer": _insurer(rc),
        "requestor": ref("Organization", org.pk, org.name),
        "request": ref("Claim", rc.claim_id),
        "outcome": "complete",
        "disposition": _disposition(rc),
        "total": _totals(rc),
        "payment": {
            "type": _code("http://terminology.hl7.org/CodeSystem/ex-paymenttype", "complete"),
            **_payment(rc),
        },
    }
    if rc.payer_claim_number:
        # The payer's own claim control number (CLP07).
        resource["identifier"] = [{"value": rc.payer_claim_number}]
    items = _response_items(rc)
    if items:
        resource["item"] = items
    claim_level = _reason_adjudications(_claim_level_adjustments(rc))
    if claim_level:
        resource["adjudication"] = claim_level
    return resource


def explanation_of_benefit(rc: Any, org: Any) -> dict[str, Any]:
    """The claim and the payer's decision together, CARIN Blue Button (professional) shaped."""
    claim_obj = rc.claim
    remit = _remit_lines(rc)
    adjudicated = {line.claim_line_id: (line, adj) for line, adj in remit if line.claim_line_id}
    items = []
    for line in _lines(claim_obj):
        item = _line_item(line)
        item["careTeamSequence"] = [1]
        if line.pk in adjudicated:
            remit_line, adjustments = adjudicated[line.pk]
            item["adjudication"] = _line_adjudications(remit_line, adjustments)
        else:
            item["adjudication"] = [_adjudication(ADJUDICATION, "submitted", line.charge)]
        items.append(item)
    resource: dict[str, Any] = {
        "resourceType": "ExplanationOfBenefit",
        "id": str(rc.pk),
        "meta": _meta(rc, part2_record=part2.is_part2(rc), profile=CARIN_EOB_PROFESSIONAL),
        "identifier": [_claim_identifier(claim_obj, org)],
        "status": claim_fhir_status(claim_obj.status),
        "type": _claim_type(claim_obj),
        "use": "claim",
        "patient": ref("Patient", claim_obj.patient_id),
        "billablePeriod": {
            "start": day(claim_obj.statement_from),
            "end": day(claim_obj.statement_to),
        },
        "created": instant(rc.created_at),
        "insurer": _insurer(rc),
        "provider": ref("Organization", org.pk, org.name),
        "payee": {
            "type": _code(CARIN_PAYEE_TYPE, "provider"),
            "party": ref("Organization", org.pk, org.name),
        },
        "claim": ref("Claim", claim_obj.pk),
        "claimResponse": ref("ClaimResponse", rc.pk),
        "outcome": "complete",
        "disposition": _disposition(rc),
        "careTeam": [
            {
                "sequence": 1,
                "provider": ref("Practitioner", claim_obj.rendering_provider_id),
                "role": _code(
                    "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBClaimCareTeamRole",
                    "performing",
                ),
            }
        ],
        "insurance": [{"focal": True, "coverage": ref("Coverage", claim_obj.coverage_id)}],
        "total": _totals(rc),
        "payment": _payment(rc),
    }
    diagnoses = _diagnoses(claim_obj)
    if diagnoses:
        resource["diagnosis"] = diagnoses
    if items:
        resource["item"] = items
    claim_level = _reason_adjudications(_claim_level_adjustments(rc))
    if claim_level:
        resource["adjudication"] = claim_level
    return resource


def operation_outcome(
    diagnostics: str, *, code: str = "invalid", severity: str = "error", expression: str = ""
) -> dict[str, Any]:
    issue: dict[str, Any] = {"severity": severity, "code": code, "diagnostics": diagnostics}
    if expression:
        issue["expression"] = [expression]
    return {"resourceType": "OperationOutcome", "issue": [issue]}
