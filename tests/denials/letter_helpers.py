"""Making an appeal letter complete, as a biller would before sending it: the payer's appeals
address on the payer record, and the bracketed medical-necessity section written."""

from __future__ import annotations

import re
from typing import Any

from denials import services
from denials.letters import letter_draft
from patients.models import Payer
from tests.clock import today


def give_the_payer_an_appeals_address(payer: Any) -> None:
    Payer.objects.filter(pk=payer.pk).update(
        appeals_address_line1="PO Box 4410",
        appeals_city="Springfield",
        appeals_state="IL",
        appeals_postal_code="627014410",
    )


def complete_the_letter(appeal: Any) -> Any:
    """The payer gets its appeals address, the draft is redone with it and every bracketed
    section is written; returns the appeal as saved."""
    give_the_payer_an_appeals_address(appeal.denial.payer)
    appeal.denial.payer.refresh_from_db()
    body = re.sub(
        r"\[[^\[\]]*\]",
        "Symptoms worsened; ASAM dimensions 1 and 3 met; a lower level would not be safe.",
        letter_draft(appeal, today=today()),
    )
    return services.appeal_letter_save(appeal=appeal, body=body)
