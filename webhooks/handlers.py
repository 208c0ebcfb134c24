"""Outbox consumers: one delivery attempt per `webhooks.deliver` message, and the events this app
turns other apps' committed work into: it subscribes to their domain topics (the lower apps
record them and import nothing of webhooks), in the same transaction as the handler. Each event
names its object (for ordering) and whether it is a 42 CFR Part 2 record, from rcm.part2."""

from __future__ import annotations

from typing import Any

from alerts.models import Alert
from authorizations.models import Authorization
from claims.models import Claim, ClaimStatus
from credentialing.models import Credential
from denials.models import Denial, RemittanceImport
from patient_accounts.models import Statement
from patients.models import EligibilityRequest
from rcm import part2
from rcm.outbox.models import OutboxMessage
from rcm.outbox.registry import NOTIFICATIONS, outbox_handler, outbox_subscriber
from rcm.tenancy.selectors import organization_now
from webhooks import events as ev
from webhooks.services import DELIVER_TOPIC, Event, delivery_attempt, event_emit, events_emit

PAID = frozenset({ClaimStatus.PAID, ClaimStatus.PARTIALLY_PAID})


@outbox_handler(DELIVER_TOPIC, long_running=True, queue=NOTIFICATIONS)
def deliver(message: OutboxMessage) -> None:
    """Leased, not claimed: the HTTP call is made outside any transaction, and a worker that
    dies mid-delivery has its message run again when the lease lapses (at-least-once)."""
    delivery_attempt(
        organization_id=message.organization_id,
        delivery_id=message.payload["delivery_id"],
        now=organization_now(message.organization_id),
        key=message.payload.get("key", ""),
    )


@outbox_subscriber("denials.remittance_post")
def remittance_posted(message: OutboxMessage) -> None:
    imp = RemittanceImport.objects.filter(pk=message.payload["import_id"]).first()
    if imp is None:
        return
    # Ids, the outcome and counts only: an 835 spans many patients, so no claim or patient
    # detail (and so no 42 CFR Part 2 detail) goes out; the receiver reads it through the API.
    event_emit(
        event_type=ev.REMITTANCE_POSTED,
        data={
            "remittance_import_id": str(imp.pk),
            "status": imp.status,
            "claims": imp.total_claims,
            "rows_posted": int((imp.summary or {}).get("rows_posted", 0)),
        },
        subject=f"remittance:{imp.pk}",
        part2=False,
        now=organization_now(message.organization_id),
    )


@outbox_subscriber("claims.status_changed")
def claim_status_changed(message: OutboxMessage) -> None:
    """claim.status_changed for every change; claim.paid and claim.denied too when it is one."""
    changes = message.payload["changes"]
    claims = {
        str(c["pk"]): c
        for c in Claim.objects.filter(pk__in=[c["claim_id"] for c in changes]).values(
            "pk", "patient_id", p2=part2.flag(Claim)
        )
    }
    events = []
    for change in changes:
        claim = claims.get(change["claim_id"])
        if claim is None:
            continue
        data = {
            "claim_id": change["claim_id"],
            "patient_id": str(claim["patient_id"]),
            "from": change["from"],
            "to": change["to"],
        }
        common: dict[str, Any] = {"subject": f"claim:{change['claim_id']}", "part2": claim["p2"]}
        events.append(Event(event_type=ev.CLAIM_STATUS_CHANGED, data=data, **common))
        if change["to"] in PAID:
            events.append(Event(event_type=ev.CLAIM_PAID, data=data, **common))
        elif change["to"] == ClaimStatus.DENIED:
            events.append(Event(event_type=ev.CLAIM_DENIED, data=data, **common))
    events_emit(events=events, now=organization_now(message.organization_id))


@outbox_subscriber("denials.created")
def denials_created(message: OutboxMessage) -> None:
    rows = Denial.objects.filter(pk__in=message.payload["denial_ids"]).values(
        "pk", "claim_id", "claim__patient_id", "category", "fully_denied", p2=part2.flag(Denial)
    )
    events_emit(
        events=[
            Event(
                event_type=ev.DENIAL_CREATED,
                data={
                    "denial_id": str(d["pk"]),
                    "claim_id": str(d["claim_id"]),
                    "patient_id": str(d["claim__patient_id"]),
                    "category": d["category"],
                    "fully_denied": d["fully_denied"],
                },
                # With the claim's own events: a denial follows the claim's change to denied.
                subject=f"claim:{d['claim_id']}",
                part2=d["p2"],
            )
            for d in rows.order_by("created_at", "pk")
        ],
        now=organization_now(message.organization_id),
    )


def _authorization_events(
    event_type: str, ids: list[Any], extra: dict[str, dict[str, Any]]
) -> list[Event]:
    rows = Authorization.objects.filter(pk__in=ids).values(
        "pk", "episode__patient_id", "end_date", "status", p2=part2.flag(Authorization)
    )
    return [
        Event(
            event_type=event_type,
            data={
                "authorization_id": str(a["pk"]),
                "patient_id": str(a["episode__patient_id"]),
                "status": a["status"],
                "end_date": a["end_date"].isoformat(),
                **extra.get(str(a["pk"]), {}),
            },
            subject=f"authorization:{a['pk']}",
            part2=a["p2"],
        )
        for a in rows.order_by("end_date", "pk")
    ]


@outbox_subscriber("authorizations.expiring")
def authorizations_expiring(message: OutboxMessage) -> None:
    """From the scan's expiry alerts (one per authorization and threshold, raised once)."""
    alerts = Alert.objects.filter(pk__in=message.payload["alert_ids"]).values(
        "subject_id", "due_on"
    )
    now = organization_now(message.organization_id)
    today = now.date()
    extra = {
        str(a["subject_id"]): {"days_left": (a["due_on"] - today).days if a["due_on"] else None}
        for a in alerts
    }
    events_emit(
        events=_authorization_events(ev.AUTHORIZATION_EXPIRING, list(extra), extra), now=now
    )


@outbox_subscriber("authorizations.expired")
def authorizations_expired(message: OutboxMessage) -> None:
    events_emit(
        events=_authorization_events(
            ev.AUTHORIZATION_EXPIRED, message.payload["authorization_ids"], {}
        ),
        now=organization_now(message.organization_id),
    )


@outbox_subscriber("credentialing.credential_expiring")
def credentials_expiring(message: OutboxMessage) -> None:
    """From the credentialing scan's expiry alerts. A provider's credential is no patient's
    record: never Part 2."""
    alerts = {
        str(a["subject_id"]): a["kind"]
        for a in Alert.objects.filter(pk__in=message.payload["alert_ids"]).values(
            "subject_id", "kind"
        )
    }
    rows = Credential.objects.filter(pk__in=list(alerts)).values(
        "pk", "provider_id", "kind", "expires_on"
    )
    events_emit(
        events=[
            Event(
                event_type=ev.CREDENTIAL_EXPIRING,
                data={
                    "credential_id": str(c["pk"]),
                    "provider_id": str(c["provider_id"]),
                    "kind": c["kind"],
                    "expires_on": c["expires_on"].isoformat() if c["expires_on"] else None,
                    "expired": alerts[str(c["pk"])] == "credential.expired",
                },
                subject=f"credential:{c['pk']}",
                part2=False,
            )
            for c in rows.order_by("expires_on", "pk")
        ],
        now=organization_now(message.organization_id),
    )


@outbox_subscriber("patients.eligibility_result")
def eligibility_result(message: OutboxMessage) -> None:
    request = (
        EligibilityRequest.objects.select_related("coverage", "verification")
        .filter(pk=message.payload["eligibility_request_id"])
        .first()
    )
    if request is None:
        return
    verification = request.verification
    event_emit(
        event_type=ev.ELIGIBILITY_RESULT,
        data={
            "eligibility_request_id": str(request.pk),
            "coverage_id": str(request.coverage_id),
            "patient_id": str(request.coverage.patient_id),
            "status": request.status,
            # Applied: the answer became the coverage's verification (not rejected, not late).
            "applied": verification is not None,
            "coverage_active": verification.is_active_coverage if verification else None,
        },
        subject=f"coverage:{request.coverage_id}",
        part2=part2.is_part2(request),
        now=organization_now(message.organization_id),
    )


@outbox_subscriber("patient_accounts.statement_sent")
def statement_sent(message: OutboxMessage) -> None:
    statement = Statement.objects.filter(pk=message.payload["statement_id"]).first()
    if statement is None:
        return
    event_emit(
        event_type=ev.STATEMENT_SENT,
        data={
            "statement_id": str(statement.pk),
            "patient_id": str(statement.patient_id),
            "statement_date": statement.statement_date.isoformat(),
            "amount_due": str(statement.amount_due),
        },
        subject=f"patient:{statement.patient_id}",
        part2=part2.is_part2(statement),
        now=organization_now(message.organization_id),
    )
