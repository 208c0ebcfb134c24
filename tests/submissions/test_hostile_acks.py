"""Hostile 999/277CA files through the acknowledgment import: a reader error (NaN or Infinity in
a 277CA quantity or amount, an empty SVC01, counts that are not digits) ends with the file
refused and the reader's message, never a 500: the API answers 400 and the inbound folder sets
the file aside in failed/ with the reason."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rcm.errors import DomainError
from rcm.tenancy.context import tenant_context
from submissions.models import Acknowledgment, BatchStatus, SubmissionBatch
from submissions.services import acknowledgment_import
from submissions.tasks import acknowledgments_pickup
from tests.submissions.acks import ack_277ca, ack_999
from tests.submissions.test_acknowledgments import sent  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db
API = "/api/v1/"


def _receiver_stc_to(text: str, segment: str) -> str:
    """The 277CA with the receiver level's STC replaced by ``segment`` (same segment count)."""
    replaced, count = re.subn(r"STC\*A1:19\*[^~]*~", segment + "~", text, count=1)
    assert count == 1
    return replaced


@pytest.mark.parametrize("value", ["NaN", "Infinity", "1E+400", "9" * 5000])
def test_a_277ca_quantity_that_is_not_a_count_is_refused_with_the_reason(sent, value):  # noqa: F811
    text = _receiver_stc_to(ack_277ca(sent.batch, {sent.claim.patient_control_number: "A1:20"}),
                            f"QTY*90*{value}")  # fmt: skip
    with tenant_context(sent.org), pytest.raises(DomainError) as caught:
        acknowledgment_import(content=text)
    assert "QTY02 (quantity) at segment 13" in caught.value.message
    assert "(segment 13, QTY)" in caught.value.message
    with tenant_context(sent.org):
        assert not Acknowledgment.objects.exists()


def test_a_277ca_charge_of_nan_answers_400_over_the_api(sent, api_client_for):  # noqa: F811
    text = ack_277ca(sent.batch, {sent.claim.patient_control_number: "A1:20"})
    text = text.replace("*WQ*150~", "*WQ*NaN~")
    response = api_client_for(sent.org).post(
        f"{API}claim-acknowledgments/", {"content": text}, format="json"
    )
    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    assert "STC04 (total charge)" in response.json()["detail"]
    assert "'NaN'" in response.json()["detail"]


def test_a_277ca_with_an_empty_svc01_is_applied(sent, api_client_for):  # noqa: F811
    pcn = sent.claim.patient_control_number
    text = ack_277ca(sent.batch, {pcn: "A1:20"})
    # The patient level's DTP becomes a service line with an empty SVC01 (same segment count).
    text = re.sub(r"DTP\*472\*D8\*\d{8}~", "SVC**150****1~", text, count=1)
    response = api_client_for(sent.org).post(
        f"{API}claim-acknowledgments/", {"content": text}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["accepted_count"] == 1


def test_a_999_whose_counts_are_not_digits_is_applied(sent):  # noqa: F811
    text = ack_999(sent.batch).replace("AK9*A*1*1*1", "AK9*A*\xb2*1*" + "9" * 5000)
    with tenant_context(sent.org):
        _ack, applied = acknowledgment_import(content=text.encode("latin-1"))
        assert applied and SubmissionBatch.objects.get().status == BatchStatus.ACKNOWLEDGED


def test_the_inbound_folder_sets_a_hostile_277ca_aside_with_the_reason(sent, settings):  # noqa: F811
    folder = Path(settings.X12_INBOUND_DIR) / sent.org.slug / "chi"
    folder.mkdir(parents=True)
    text = _receiver_stc_to(ack_277ca(sent.batch, {sent.claim.patient_control_number: "A1:20"}),
                            "QTY*90*NaN")  # fmt: skip
    (folder / "bad.277").write_text(text)
    assert acknowledgments_pickup() == 1
    reason = (folder / "failed" / "bad.277.reason.txt").read_text()
    assert "QTY02 (quantity) at segment 13 is 'NaN', which is not a number" in reason
    with tenant_context(sent.org):
        assert not Acknowledgment.objects.exists()
