"""The events other apps' committed work turns into (issue 23, item 1): each app records a domain
outbox topic where the state changes, and webhooks sends the events to a real local receiver.
Also 42 CFR Part 2 per endpoint and the delivery log's Part 2 narrowing."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from authorizations.services import authorization_scan
from claims import services as claims_services
from claims.models import Claim
from credentialing.services import credentialing_alerts_scan
from patients import services as patients_services
from rcm import part2
from rcm.audit.models import AuditEvent
from rcm.outbox.models import OutboxMessage, OutboxStatus
from rcm.outbox.services import outbox_process
from rcm.tenancy.context import tenant_context
from tests.authorizations.factories import day, make_authorization
from tests.claims.conftest import dos
from tests.clock import days_ago, days_from_now, now, today
from tests.credentialing.factories import CredentialFactory
from tests.denials.conftest import practice, reference_codes, submitted  # noqa: F401
from tests.denials.test_posting import post
from tests.denials.x835 import Clp, Svc, build_835
from tests.webhooks.receiver import Receiver, receiver
from tests.webhooks.test_delivery import run_due
from webhooks import selectors
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.services import endpoint_create, endpoint_part2_set

pytestmark = pytest.mark.django_db

SAMPLES_271 = Path(__file__).parent.parent / "x12" / "samples" / "271-handwritten"


@pytest.fixture(autouse=True)
def _local_receivers(settings: Any) -> None:
    settings.WEBHOOK_ALLOW_HTTP_LOCALHOST = True


def run_topic(org: Any, topic: str) -> int:
    """Process the pending messages of a domain topic (the worker's job): webhooks' subscriber
    records the deliveries in the same transaction."""
    with tenant_context(org):
        ids = list(
            OutboxMessage.objects.filter(topic=topic, status=OutboxStatus.PENDING).values_list(
                "pk", flat=True
            )
        )
    return sum(outbox_process(message_id=i, now=now(), organization_id=org.pk) for i in ids)


def bodies(rx: Receiver) -> list[dict[str, Any]]:
    return [json.loads(r.body) for r in rx.requests]


def endpoint(org: Any, url: str, *types: str, part2_allowed: bool = False) -> WebhookEndpoint:
    with tenant_context(org):
        created = endpoint_create(url=url, event_types=list(types))
        if part2_allowed:
            endpoint_part2_set(endpoint_id=created.endpoint.pk, allowed=True)
        return created.endpoint


def test_a_claim_transition_sends_its_status_change_and_a_denial_the_claim_denied_event(
    practice: Any,  # noqa: F811
    submitted: Callable[..., Any],  # noqa: F811
) -> None:
    claim = submitted()
    with receiver() as rx:
        endpoint(practice.org, rx.url, "claim.status_changed", "claim.denied")
        endpoint(practice.org, rx.url + "/paid-only", "claim.paid")
        with tenant_context(practice.org):
            claims_services.claim_transition(claim=claim, to_status="accepted")
            claims_services.claim_transition(claim=claim, to_status="denied")
        # ready -> submitted (the fixture), submitted -> accepted, accepted -> denied
        assert run_topic(practice.org, "claims.status_changed") == 3
        assert run_due(practice.org, now()) == 4
    got = bodies(rx)
    assert [(b["type"], b["data"]["to"]) for b in got] == [
        ("claim.status_changed", "submitted"),
        ("claim.status_changed", "accepted"),
        ("claim.status_changed", "denied"),
        ("claim.denied", "denied"),
    ]
    assert {r.headers["content-type"] for r in rx.requests} == {"application/json"}
    assert got[2]["data"] == {
        "claim_id": str(claim.pk),
        "patient_id": str(claim.patient_id),
        "from": "accepted",
        "to": "denied",
    }
    assert all("part2" not in b for b in got)


def test_a_posted_remittance_sends_claim_paid_claim_denied_and_denial_created(
    practice: Any,  # noqa: F811
    submitted: Callable[..., Any],  # noqa: F811
) -> None:
    paid, denied = submitted(), submitted(start=dos() + timedelta(days=1))
    with tenant_context(practice.org):
        paid_line, denied_line = paid.lines.get(), denied.lines.get()
    with receiver() as rx:
        endpoint(practice.org, rx.url, "claim.paid", "claim.denied", "denial.created")
        run_topic(practice.org, "claims.status_changed")  # the submissions: no such event wanted
        assert run_due(practice.org, now()) == 0
        post(
            practice.org,
            build_835(
                [
                    Clp(
                        paid.patient_control_number,
                        "1",
                        D("150"),
                        D("150"),
                        lines=[Svc("90834", D("150"), D("150"), lcn=paid_line.line_control_number)],
                    ),
                    Clp(
                        denied.patient_control_number,
                        "4",
                        D("150"),
                        D("0"),
                        lines=[
                            Svc(
                                "90834",
                                D("150"),
                                D("0"),
                                lcn=denied_line.line_control_number,
                                cas=[("CO", "50", D("150"))],
                            )
                        ],
                    ),
                ]
            ),
        )
        assert run_topic(practice.org, "claims.status_changed") == 1  # one for the whole 835
        assert run_topic(practice.org, "denials.created") == 1
        run_due(practice.org, now())
    got = {(b["type"], b["data"]["claim_id"]) for b in bodies(rx)}
    assert got == {
        ("claim.paid", str(paid.pk)),
        ("claim.denied", str(denied.pk)),
        ("denial.created", str(denied.pk)),
    }
    denial = next(b for b in bodies(rx) if b["type"] == "denial.created")
    assert set(denial["data"]) == {
        "denial_id",
        "claim_id",
        "patient_id",
        "category",
        "fully_denied",
    }
    assert denial["data"]["fully_denied"] is True


def test_a_part2_claims_events_go_only_to_an_endpoint_allowed_part2_detail(
    practice: Any,  # noqa: F811
    submitted: Callable[..., Any],  # noqa: F811
) -> None:
    claim = submitted()
    with tenant_context(practice.org):
        Claim.objects.filter(pk=claim.pk).update(is_part2=True)
    with receiver() as plain, receiver() as allowed:
        endpoint(practice.org, plain.url, "claim.status_changed")
        endpoint(practice.org, allowed.url, "claim.status_changed", part2_allowed=True)
        with tenant_context(practice.org):
            claims_services.claim_transition(claim=claim, to_status="accepted")
        run_topic(practice.org, "claims.status_changed")
        run_due(practice.org, now())
    # Withheld whole from the endpoint without Part 2 (not even the ids): rcm.part2 decides.
    assert plain.requests == []
    got = bodies(allowed)
    assert [b["data"]["to"] for b in got] == ["submitted", "accepted"]
    assert all(b["part2"] is True for b in got)
    with tenant_context(practice.org):
        ep = WebhookEndpoint.objects.get(part2_allowed=True)
        # The delivery log of an owner without the grant does not show them either.
        assert selectors.delivery_log(endpoint=ep, scopes=frozenset()).count() == 0
        assert selectors.delivery_log(endpoint=ep, scopes=part2.ORGANIZATION).count() == 2


def test_the_part2_setting_is_off_by_default_and_each_change_is_audited(org: Any) -> None:
    ep = endpoint(org, "http://localhost:9/hook", "claim.status_changed")
    assert ep.part2_allowed is False
    with tenant_context(org):
        endpoint_part2_set(endpoint_id=ep.pk, allowed=True)
        endpoint_part2_set(endpoint_id=ep.pk, allowed=True)  # no change: nothing recorded
        endpoint_part2_set(endpoint_id=ep.pk, allowed=False)
        trail = list(
            AuditEvent.objects.filter(action="webhooks.endpoint_part2")
            .order_by("created_at", "pk")
            .values_list("detail", flat=True)
        )
        ep.refresh_from_db()
    # Two changes recorded (the clock is frozen, so they share a timestamp: compare as a set).
    assert sorted(trail, key=str) == [
        {"part2_allowed": [False, True]},
        {"part2_allowed": [True, False]},
    ]
    assert ep.part2_allowed is False


def test_the_authorization_scan_sends_expiring_and_expired_events_once(org: Any) -> None:
    ending = make_authorization(org)  # ends in two days: inside the 3-day threshold
    with receiver() as rx:
        endpoint(org, rx.url, "authorization.expiring", "authorization.expired", part2_allowed=True)
        with tenant_context(org):
            authorization_scan(today=today())
            authorization_scan(today=today())  # the same day again: nothing new
        assert run_topic(org, "authorizations.expiring") == 1
        run_due(org, now())
        with tenant_context(org):
            authorization_scan(today=day(15))  # its end date passed
        assert run_topic(org, "authorizations.expired") == 1
        run_due(org, now())
    got = bodies(rx)
    assert [b["type"] for b in got] == ["authorization.expiring", "authorization.expired"]
    assert got[0]["data"]["authorization_id"] == str(ending.pk)
    assert got[0]["data"]["days_left"] == 2
    assert got[0]["data"]["end_date"] == day(14).isoformat()
    assert got[1]["data"]["status"] == "expired"
    # A residential SUD episode's authorization: a Part 2 record.
    assert all(b["part2"] is True for b in got)


def test_an_expiring_authorization_of_an_sud_episode_is_withheld_without_part2(org: Any) -> None:
    make_authorization(org)
    with receiver() as rx:
        endpoint(org, rx.url, "authorization.expiring")
        with tenant_context(org):
            authorization_scan(today=today())
        run_topic(org, "authorizations.expiring")
        assert run_due(org, now()) == 0
    assert rx.requests == []
    with tenant_context(org):
        assert WebhookDelivery.objects.count() == 0


def test_the_credentialing_scan_sends_credential_expiring(org: Any) -> None:
    with tenant_context(org):
        licence = CredentialFactory(organization=org, expires_on=days_from_now(20))
        CredentialFactory(organization=org)  # four years left: no event
    with receiver() as rx:
        endpoint(org, rx.url, "credential.expiring")
        with tenant_context(org):
            credentialing_alerts_scan(today=today())
            credentialing_alerts_scan(today=today())
        assert run_topic(org, "credentialing.credential_expiring") == 1
        run_due(org, now())
    [got] = bodies(rx)
    assert got["data"] == {
        "credential_id": str(licence.pk),
        "provider_id": str(licence.provider_id),
        "kind": "state_licence",
        "expires_on": days_from_now(20).isoformat(),
        "expired": False,
    }


def test_an_applied_271_sends_the_eligibility_result(org: Any) -> None:
    with tenant_context(org):
        payer = patients_services.payer_create(
            name="ABC Health Plan", payer_id="842610001", payer_type="commercial"
        )
        patient = patients_services.patient_create(
            today=today(),
            mrn="R-100",
            first_name="Ana",
            last_name="Rivera",
            date_of_birth=date(1985, 3, 14),
            sex="F",
        )
        coverage = patients_services.coverage_create(
            patient=patient,
            payer=payer,
            member_id="W123456789",
            effective_date=days_ago(400),
            deductible=D("250.00"),
            auth_required=False,
        )
        request = patients_services.eligibility_request_create(
            coverage=coverage,
            trace_number="EQ-2026-000417",
            raw_request="ISA*...270",
            now=now() - timedelta(hours=1),
        )
    with receiver() as rx:
        endpoint(org, rx.url, "eligibility.result")
        with tenant_context(org):
            patients_services.eligibility_response_apply(
                raw=(SAMPLES_271 / "subscriber_behavioral_benefits.271").read_text(), now=now()
            )
        assert run_topic(org, "patients.eligibility_result") == 1
        run_due(org, now())
    [got] = bodies(rx)
    assert got["type"] == "eligibility.result"
    assert got["data"] == {
        "eligibility_request_id": str(request.pk),
        "coverage_id": str(coverage.pk),
        "patient_id": str(patient.pk),
        "status": "answered",
        "applied": True,
        "coverage_active": True,
    }
