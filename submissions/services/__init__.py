"""Electronic submission: clearinghouses, submission batches (837P / 837I files), control
numbers, transport, and the 999 / 277CA acknowledgments that come back.

A batch is built in phases, each committed on its own so the batch page can show progress:
number it (control numbers taken under a row lock and recorded before anything is released),
render the file from a fixed number of queries, validate it with pyx12, release it (the file is
recorded and its claims become submitted in one transaction), then hand it to the transport.

The package splits that work by job (clearinghouses, building, rendering, sending,
acknowledgments); every public name is importable from `submissions.services`.
"""

from __future__ import annotations

from submissions.services.acknowledgments import (
    acknowledgment_import,
    acknowledgments_import_folder,
    rejection_resolve,
)
from submissions.services.building import (
    BATCH_BUILD_TOPIC,
    OPEN_BATCH,
    batch_number,
    batches_create,
)
from submissions.services.claimstatus import (
    CLAIM_STATUS_SEND_TOPIC,
    claim_status_request_create,
    claim_status_send,
    claim_status_setting_save,
)
from submissions.services.clearinghouses import (
    CLEARINGHOUSE_FIELDS,
    clearinghouse_save,
)
from submissions.services.eligibility import (
    ELIGIBILITY_BATCH_TOPIC,
    eligibility_batch_check_item,
    eligibility_batch_finish,
    eligibility_batch_pending,
    eligibility_batch_start,
    eligibility_check,
    realtime_adapter,
)
from submissions.services.paper import (
    LINES_PER_PAGE,
    cms1500_pages,
    cms1500_pdf,
    paper_claims,
    paper_claims_print,
)
from submissions.services.rendering import (
    FILING_INDICATOR,
    INPATIENT_LEVELS,
    MEDICARE_CONDITION,
    RESIDENTIAL_LEVELS,
    RESPONSIBILITY,
    VERSION,
    BatchRefused,
    BuildProblem,
    LineRow,
    PreparedBatch,
    RenderedBatch,
    batch_prepare,
    batch_render,
    claim_x12_preview,
    pyx12_validate,
    type_of_bill,
)
from submissions.services.sending import (
    batch_build,
    batch_fail,
    batch_regenerate,
    batch_release,
    batch_retry,
    batch_send,
)

__all__ = [
    "BATCH_BUILD_TOPIC",
    "CLAIM_STATUS_SEND_TOPIC",
    "CLEARINGHOUSE_FIELDS",
    "ELIGIBILITY_BATCH_TOPIC",
    "FILING_INDICATOR",
    "INPATIENT_LEVELS",
    "LINES_PER_PAGE",
    "MEDICARE_CONDITION",
    "OPEN_BATCH",
    "RESIDENTIAL_LEVELS",
    "RESPONSIBILITY",
    "VERSION",
    "BatchRefused",
    "BuildProblem",
    "LineRow",
    "PreparedBatch",
    "RenderedBatch",
    "acknowledgment_import",
    "acknowledgments_import_folder",
    "batch_build",
    "batch_fail",
    "batch_number",
    "batch_prepare",
    "batch_regenerate",
    "batch_release",
    "batch_render",
    "batch_retry",
    "batch_send",
    "batches_create",
    "claim_status_request_create",
    "claim_status_send",
    "claim_status_setting_save",
    "claim_x12_preview",
    "clearinghouse_save",
    "cms1500_pages",
    "cms1500_pdf",
    "eligibility_batch_check_item",
    "eligibility_batch_finish",
    "eligibility_batch_pending",
    "eligibility_batch_start",
    "eligibility_check",
    "paper_claims",
    "paper_claims_print",
    "pyx12_validate",
    "realtime_adapter",
    "rejection_resolve",
    "type_of_bill",
]
