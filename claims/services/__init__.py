"""Every change in the claims app: charges, fee schedules, claim building, scrubbing and the
claim lifecycle. Building and scrubbing are set-based: a fixed number of queries for any number
of charges (bench/claim_build.py measures it).

The package splits that work by job (fees, payer_rules, charges, building, scrubbing, lifecycle,
scans, saved_filters); every public name is importable from `claims.services`.
"""

from __future__ import annotations

from claims.services.building import (
    MAX_LINES_837P,
    PCN_ALPHABET,
    BuildReport,
    SecondarySource,
    claims_build,
    secondary_claims_create,
)
from claims.services.care_management import (
    care_minutes_add,
    care_month_confirm,
    care_month_rollup,
    previous_month,
)
from claims.services.charges import (
    ChargePreview,
    charge_preview,
    service_entry_create,
    service_entry_replay,
    service_entry_void,
)
from claims.services.corrections import (
    EDITABLE,
    claim_editable,
    claim_line_delete,
    claim_line_update,
    claim_rescrub,
)
from claims.services.fees import (
    charge_for,
    charge_master_set,
    contract_rate_set,
)
from claims.services.lifecycle import (
    TRANSITIONS,
    claim_correct,
    claim_transition,
    claim_void_with_payer,
    correction_refusal,
)
from claims.services.payer_rules import (
    corrected_claim_days,
    payer_billing_rule_create,
    payer_edits,
)
from claims.services.saved_filters import (
    saved_filter_save,
)
from claims.services.scans import (
    claims_unbillable_scan,
)
from claims.services.scrubbing import (
    NOT_YET_DISCLOSED,
    claims_scrub,
)

__all__ = [
    "EDITABLE",
    "MAX_LINES_837P",
    "NOT_YET_DISCLOSED",
    "PCN_ALPHABET",
    "TRANSITIONS",
    "BuildReport",
    "ChargePreview",
    "SecondarySource",
    "care_minutes_add",
    "care_month_confirm",
    "care_month_rollup",
    "charge_for",
    "charge_master_set",
    "charge_preview",
    "claim_correct",
    "claim_editable",
    "claim_line_delete",
    "claim_line_update",
    "claim_rescrub",
    "claim_transition",
    "claim_void_with_payer",
    "claims_build",
    "claims_scrub",
    "claims_unbillable_scan",
    "contract_rate_set",
    "corrected_claim_days",
    "correction_refusal",
    "payer_billing_rule_create",
    "payer_edits",
    "previous_month",
    "saved_filter_save",
    "secondary_claims_create",
    "service_entry_create",
    "service_entry_replay",
    "service_entry_void",
]
