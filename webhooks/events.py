"""The event types an endpoint may receive, and what produces them."""

from __future__ import annotations

TEST_EVENT = "webhook.test"
REMITTANCE_POSTED = "remittance.posted"

EVENT_TYPES: dict[str, str] = {
    REMITTANCE_POSTED: "An uploaded 835 remittance finished posting (or was rejected).",
    TEST_EVENT: 'Sent by the "send test event" button.',
}
