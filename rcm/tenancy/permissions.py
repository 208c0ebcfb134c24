"""Roles and scopes: one permission map shared by HTML views, API views and API keys.

A scope names an area and an access (`claims:write`). A membership's role grants a set of scopes;
an API key carries scopes chosen when it is made. Views declare the scope they need, so the same
check answers for a biller in the browser and for a partner system on the API.
"""

from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    OWNER = "owner", "Owner / admin"
    BILLER = "biller", "Biller"
    CREDENTIALING = "credentialing", "Credentialing specialist"
    MANAGER = "manager", "Clinic manager"
    CLINICIAN = "clinician", "Clinician"
    AUDITOR = "auditor", "Auditor"


SCOPES: dict[str, str] = {
    "patients:read": "Read patients, coverage, episodes and consents",
    "patients:write": "Create and change patients, coverage, episodes and consents",
    "part2:read": "See 42 CFR Part 2 (substance use) episode detail",
    "authorizations:read": "Read prior authorizations and reviews",
    "authorizations:write": "Create and change prior authorizations and reviews",
    "credentialing:read": "Read providers, credentials and payer enrollments",
    "credentialing:write": "Create and change providers, credentials and payer enrollments",
    "claims:read": "Read charges, claims and batches",
    "claims:write": "Enter charges, build, scrub and submit claims",
    "denials:read": "Read remittances, denials and the work queue",
    "denials:write": "Post remittances, work denials, file appeals",
    "dashboards:read": "Read dashboards and KPIs",
    "patient_accounts:read": "Read patient accounts: guarantors, ledgers, patient payments",
    "patient_accounts:write": "Record patient payments, request refunds and write-offs, edit guarantors",
    "patient_accounts:approve": "Approve patient refunds and small-balance write-offs",
    "audit:read": "Read the audit trail",
    "fhir:export": "Start FHIR bulk exports ($export) of the resources the other read scopes allow",
    "webhooks:write": "Register webhook endpoints, read their delivery logs, redeliver events",
    "hl7:write": "Send HL7 v2 messages (ADT registrations, DFT charges)",
    "org:admin": "Manage the organization, its members and API keys",
}

_READ_ALL = {s for s in SCOPES if s.endswith(":read") and s not in {"part2:read", "audit:read"}}

# Part 2 access is never part of a role: it is the separate grant on the membership.
ROLE_SCOPES: dict[str, frozenset[str]] = {
    Role.OWNER: frozenset(set(SCOPES) - {"part2:read"}),
    Role.BILLER: frozenset(
        _READ_ALL
        | {
            "patients:write",
            "authorizations:write",
            "claims:write",
            "denials:write",
            "patient_accounts:write",
        }
    ),
    Role.CREDENTIALING: frozenset(
        {"credentialing:read", "credentialing:write", "patients:read", "dashboards:read"}
    ),
    # A clinic manager approves patient refunds and write-offs a biller asks for.
    Role.MANAGER: frozenset(_READ_ALL | {"patient_accounts:approve"}),
    Role.CLINICIAN: frozenset({"patients:read", "claims:read", "claims:write"}),
    Role.AUDITOR: frozenset(_READ_ALL | {"audit:read"}),
}

# Scopes an API key may be given (a key never administers the organization).
API_KEY_SCOPES = [s for s in SCOPES if s not in {"org:admin", "audit:read"}]


def scopes_for_role(role: str, *, part2_access: bool = False) -> frozenset[str]:
    scopes = ROLE_SCOPES.get(role, frozenset())
    return scopes | {"part2:read"} if part2_access else scopes


# What a new member's role starts as: the role with the fewest scopes, so a hurried "Add" never
# hands out more than asked (an owner is a deliberate choice).
LEAST_PRIVILEGED_ROLE = min(Role, key=lambda role: (len(ROLE_SCOPES.get(role, ())), role.value))


def roles_with_scope(scope: str) -> list[str]:
    """The roles whose scopes include `scope` (who may be handed work in that area)."""
    return [role for role, scopes in ROLE_SCOPES.items() if scope in scopes]
