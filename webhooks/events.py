"""The event types an endpoint may receive, and what produces them (docs/integration.md)."""

from __future__ import annotations

TEST_EVENT = "webhook.test"
REMITTANCE_POSTED = "remittance.posted"
CLAIM_STATUS_CHANGED = "claim.status_changed"
CLAIM_PAID = "claim.paid"
CLAIM_DENIED = "claim.denied"
DENIAL_CREATED = "denial.created"
AUTHORIZATION_EXPIRING = "authorization.expiring"
AUTHORIZATION_EXPIRED = "authorization.expired"
CREDENTIAL_EXPIRING = "credential.expiring"
ELIGIBILITY_RESULT = "eligibility.result"
STATEMENT_SENT = "statement.sent"

EVENT_TYPES: dict[str, str] = {
    CLAIM_STATUS_CHANGED: "A claim moved along its lifecycle (any status change).",
    CLAIM_PAID: "A claim became paid or partially paid.",
    CLAIM_DENIED: "A claim became denied.",
    DENIAL_CREATED: "A remittance recorded a denial on a claim.",
    REMITTANCE_POSTED: "An uploaded 835 remittance finished posting (or was rejected).",
    AUTHORIZATION_EXPIRING: "An authorization came within an expiry alert threshold.",
    AUTHORIZATION_EXPIRED: "An authorization's end date passed.",
    CREDENTIAL_EXPIRING: "A provider's credential came within an expiry threshold, or expired.",
    ELIGIBILITY_RESULT: "A 271 eligibility answer was applied (or refused) for a request.",
    STATEMENT_SENT: "A patient statement was made in a statement run (ready to mail).",
    TEST_EVENT: 'Sent by the "send test event" button.',
}
