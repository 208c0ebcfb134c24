"""Real-time eligibility: a 270 about a coverage sent through the clearinghouse's real-time
transport and its 271 applied as a benefit verification (patients.services).

The exchange runs synchronously with the clearinghouse's short timeout (a few seconds, at most
`realtime_timeout_seconds` x (1 + `realtime_retries`)); no database transaction is held while
waiting. The request is recorded before sending, so a timeout or a refusal is kept on it ("no
answer" or "error", with the raw answer), never a silent success."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from django.conf import settings

from patients.models import Coverage, EligibilityRequest, EligibilityStatus
from patients.services import (
    eligibility_request_create,
    eligibility_request_fail,
    eligibility_response_apply,
)
from rcm.crypto import decrypt
from rcm.errors import DomainError
from rcm.tenancy.context import require_organization_id
from rcm.tenancy.models import Organization
from submissions.models import Clearinghouse, RealtimeTransport
from submissions.realtime import CoreMimeTransport, RealtimeAdapter, RealtimeError
from x12.eligibility import EligibilityInquiry, Person, render_270
from x12.reader import X12Error
from x12.writer import Envelope

# What a behavioral health check asks about: the plan (30) and mental health (MH).
SERVICE_TYPES = ("30", "MH")


def realtime_adapter(clearinghouse: Clearinghouse) -> RealtimeAdapter:
    """The clearinghouse's real-time transport; refused when it has none."""
    if clearinghouse.realtime_transport != RealtimeTransport.CORE_MIME:
        raise DomainError(
            f"{clearinghouse.name} has no real-time transport; set CAQH CORE on it first.",
            field="realtime_transport",
        )
    return CoreMimeTransport(
        url=clearinghouse.core_url,
        username=clearinghouse.core_username,
        password=decrypt(clearinghouse.core_password_encrypted)
        if clearinghouse.core_password_encrypted
        else "",
        sender_id=clearinghouse.submitter_id,
        receiver_id=clearinghouse.receiver_id,
        timeout=float(clearinghouse.realtime_timeout_seconds),
        retries=clearinghouse.realtime_retries,
        verify=settings.CLEARINGHOUSE_CA_BUNDLE or True,
        client_cert=decrypt(clearinghouse.core_client_cert_encrypted)
        if clearinghouse.core_client_cert_encrypted
        else "",
        client_key=decrypt(clearinghouse.core_client_key_encrypted)
        if clearinghouse.core_client_key_encrypted
        else "",
    )


def _person(last: str, first: str, member_id: str, birth: Any, sex: str) -> Person:
    return Person(
        last_name=last, first_name=first, member_id=member_id, birth_date=birth, gender=sex or ""
    )


def _inquiry(coverage: Coverage, trace: str, org: Organization, on: Any) -> EligibilityInquiry:
    patient = coverage.patient
    patient_person = _person(
        patient.last_name, patient.first_name, coverage.member_id, patient.date_of_birth,
        patient.sex if patient.sex in ("M", "F") else "",
    )  # fmt: skip
    if coverage.relationship == "18":
        subscriber, dependent = patient_person, None
    else:
        subscriber = _person(
            coverage.subscriber_last_name, coverage.subscriber_first_name, coverage.member_id,
            coverage.subscriber_date_of_birth, coverage.subscriber_sex,
        )  # fmt: skip
        dependent = replace_member(patient_person)
    return EligibilityInquiry(
        trace_number=trace,
        trace_originator="1" + (org.tax_id or "").replace("-", ""),
        payer_name=coverage.payer.name,
        payer_id=coverage.payer.payer_id,
        provider_name=org.name,
        provider_npi=org.group_npi,
        subscriber=subscriber,
        dependent=dependent,
        service_date=on,
        service_types=SERVICE_TYPES,
    )


def replace_member(person: Person) -> Person:
    """A dependent is named without a member id (2100D has none)."""
    return Person(
        last_name=person.last_name,
        first_name=person.first_name,
        birth_date=person.birth_date,
        gender=person.gender,
    )


def eligibility_check(
    *,
    coverage: Coverage,
    clearinghouse: Clearinghouse,
    now: datetime,
    today: Any,
    user: Any = None,
    adapter: RealtimeAdapter | None = None,
) -> EligibilityRequest:
    """Ask the payer now whether the coverage is active and what it pays for mental health.

    Returns the request: answered (with its verification), rejected (AAA), no answer or error.
    A 270 we cannot write (the organization's NPI or tax id missing) is refused, nothing sent."""
    adapter = adapter or realtime_adapter(clearinghouse)
    org = Organization.objects.get(pk=require_organization_id())
    coverage = Coverage.objects.select_related("patient", "payer").get(pk=coverage.pk)
    trace = uuid.uuid4().hex[:30].upper()
    created = now.astimezone(UTC).replace(tzinfo=None)
    try:
        raw_270 = render_270(
            [_inquiry(coverage, trace, org, today)],
            Envelope(
                sender_id=clearinghouse.submitter_id,
                receiver_id=clearinghouse.receiver_id,
                sender_qualifier=clearinghouse.submitter_qualifier,
                receiver_qualifier=clearinghouse.receiver_qualifier,
                # Real time: one interchange per request, numbered by the second it was made.
                interchange_control_number=int(now.timestamp()) % 999_999_999 + 1,
                group_control_number=1,
                created=created,
                usage=clearinghouse.usage,
            ),
        )
    except X12Error as exc:
        raise DomainError(f"The 270 cannot be written: {exc}", field="coverage") from exc
    request = eligibility_request_create(
        coverage=coverage, trace_number=trace, raw_request=raw_270, now=now
    )
    try:
        answer = adapter.exchange(raw_270, payload_id=str(uuid.uuid4()), now=now)
    except RealtimeError as exc:
        return eligibility_request_fail(
            request=request, status=exc.status, error=exc.message, raw_response=exc.raw_response
        )
    try:
        eligibility_response_apply(raw=answer, now=now, verified_by=user, expect_trace=trace)
    except DomainError as exc:
        return eligibility_request_fail(
            request=request,
            status=EligibilityStatus.ERROR,
            error=exc.message,
            raw_response=answer,
        )
    return EligibilityRequest.objects.select_related("verification").get(pk=request.pk)
