from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from claims.models import Claim, ClaimStatus
from rcm import part2
from rcm.tenancy.context import tenant_context
from submissions.models import BatchStatus, ClaimRejection, SubmissionBatch
from tests.submissions.acks import ack_277ca, ack_999
from tests.submissions.conftest import bill_ready

BASE = "/o/riverbend/claims/batches/"


def _create(client, billing, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(BASE, {"clearinghouse": billing.clearinghouse.pk})
    assert response.status_code == 302, response.content.decode()[:2000]
    with tenant_context(billing.org):
        return SubmissionBatch.objects.get()


def test_a_biller_creates_a_batch_follows_its_progress_and_downloads_the_file(
    billing, biller, client_for, eager, django_capture_on_commit_callbacks
):
    bill_ready(billing)
    client = client_for(biller)
    listing = client.get(BASE).content.decode()
    assert "Ready to send: 1 837P" in listing
    batch = _create(client, billing, django_capture_on_commit_callbacks)
    assert batch.status == BatchStatus.RELEASED
    page = client.get(f"{BASE}{batch.pk}/").content.decode()
    assert "1 of 1 claims written" in page and batch.file_name in page
    part = client.get(f"{BASE}{batch.pk}/?part=progress").content.decode()
    assert part.startswith('<div id="progress"') and "hx-trigger" not in part  # done: no polling
    polled = client.get(f"{BASE}{batch.pk}/?part=progress", HTTP_HX_REQUEST="true")
    assert polled["HX-Refresh"] == "true"  # the page reloads once the batch is done
    download = client.get(f"{BASE}{batch.pk}/file/")
    assert download["Content-Disposition"] == f'attachment; filename="{batch.file_name}"'
    assert download.content == batch.content.encode()


def test_an_open_batch_page_polls_for_progress(billing, biller, client_for):
    bill_ready(billing)
    from submissions.services import batches_create

    with tenant_context(billing.org):
        batch = batches_create(scopes=part2.ORGANIZATION, clearinghouse=billing.clearinghouse)[0]
    part = client_for(biller).get(f"{BASE}{batch.pk}/?part=progress").content.decode()
    assert 'hx-trigger="every 1s"' in part and "0 of 1 claims written" in part


def test_a_failed_batch_shows_the_reasons(
    billing, biller, client_for, eager, django_capture_on_commit_callbacks
):
    bill_ready(billing)
    billing.org.group_npi = ""
    billing.org.save()
    batch = _create(client_for(biller), billing, django_capture_on_commit_callbacks)
    page = client_for(biller).get(f"{BASE}{batch.pk}/").content.decode()
    assert "Billing NPI is missing: set it in Organization settings." in page


def test_uploading_acknowledgments_fills_the_rejections_queue_with_a_link_to_fix(
    billing, biller, client_for, eager, django_capture_on_commit_callbacks
):
    (claim,) = bill_ready(billing)
    client = client_for(biller)
    batch = _create(client, billing, django_capture_on_commit_callbacks)
    text = ack_999(batch)
    response = client.post(f"{BASE}acknowledgments/upload/",
                           {"file": SimpleUploadedFile("a.999", text.encode())}, follow=True)  # fmt: skip
    assert "999: 1 accepted, 0 rejected" in response.content.decode()
    again = client.post(f"{BASE}acknowledgments/upload/",
                        {"file": SimpleUploadedFile("b.999", text.encode())}, follow=True)  # fmt: skip
    assert "Already applied: nothing changed." in again.content.decode()
    rejected = ack_277ca(batch, {claim.patient_control_number: "A7:562:85"})
    client.post(
        f"{BASE}acknowledgments/upload/", {"file": SimpleUploadedFile("c.277", rejected.encode())}
    )
    queue = client.get(f"{BASE}rejections/").content.decode()
    assert claim.patient_control_number in queue and "National Provider Identifier" in queue
    assert "Fix the claim" in queue
    with tenant_context(billing.org):
        rejection = ClaimRejection.objects.get()
        assert Claim.objects.get().status == ClaimStatus.REJECTED
    client.post(f"{BASE}rejections/{rejection.pk}/resolve/")
    assert "No rejected claims waiting." in client.get(f"{BASE}rejections/").content.decode()


def test_a_bad_upload_shows_the_reason_inline_and_applies_nothing(billing, biller, client_for):
    response = client_for(biller).post(
        f"{BASE}acknowledgments/upload/", {"file": SimpleUploadedFile("x.999", b"garbage")}
    )
    assert "This is not an X12 file" in response.content.decode()


def test_the_claim_x12_preview_names_the_loops(billing, biller, client_for):
    (claim,) = bill_ready(billing)
    page = client_for(biller).get(f"{BASE}claim/{claim.pk}/x12/").content.decode()
    assert "2010AA Billing provider" in page and "2400 Service line 1" in page
    assert f"CLM*{claim.patient_control_number}*" in page


def test_the_preview_lists_what_blocks_the_claim(billing, biller, client_for):
    (claim,) = bill_ready(billing)
    billing.org.tax_id = ""
    billing.org.save()
    page = client_for(biller).get(f"{BASE}claim/{claim.pk}/x12/").content.decode()
    assert "Tax ID (EIN) is missing: set it in Organization settings." in page


def test_clearinghouses_are_added_with_their_separators_checked(billing, biller, client_for):
    data = {
        "name": "Other CH", "code": "other", "receiver_name": "Other", "receiver_id": "OTH01",
        "receiver_qualifier": "ZZ", "submitter_id": "RB1", "submitter_qualifier": "ZZ",
        "contact_name": "Pat", "contact_phone": "5035550100", "usage": "T",
        "element_separator": "*", "component_separator": "*", "repetition_separator": "^",
        "segment_terminator": "~", "transport": "folder", "sftp_port": 22,
        "sftp_remote_dir": "inbound", "is_active": "on",
    }  # fmt: skip
    client = client_for(biller)
    assert (
        "four different single characters"
        in client.post(f"{BASE}clearinghouses/", data).content.decode()
    )
    data["component_separator"] = ":"
    assert client.post(f"{BASE}clearinghouses/", data).status_code == 302


def test_a_manager_reads_batches_but_cannot_create_one(billing, manager, client_for):
    client = client_for(manager)
    assert client.get(BASE).status_code == 200
    assert client.post(BASE, {"clearinghouse": billing.clearinghouse.pk}).status_code == 403


def test_the_batch_list_costs_a_fixed_number_of_queries(
    billing,
    biller,
    client_for,
    eager,
    django_capture_on_commit_callbacks,
    django_assert_max_num_queries,
):
    bill_ready(billing)
    client = client_for(biller)
    _create(client, billing, django_capture_on_commit_callbacks)
    with django_assert_max_num_queries(20):
        assert client.get(BASE).status_code == 200


def test_the_preview_of_a_part2_claim_needs_the_part2_grant(billing, biller, client_for):
    from rcm.tenancy.models import Membership

    (claim,) = bill_ready(billing)
    with tenant_context(billing.org):
        Claim.objects.filter(pk=claim.pk).update(is_part2=True)
    assert client_for(biller).get(f"{BASE}claim/{claim.pk}/x12/").status_code == 200
    with tenant_context(billing.org):
        Membership.objects.filter(user=biller).update(part2_access=False)
    assert client_for(biller).get(f"{BASE}claim/{claim.pk}/x12/").status_code == 404


def test_the_core_password_is_entered_once_and_never_shown_again(billing, biller, client_for):
    data = {
        "name": "Core CH", "code": "core", "receiver_name": "Core", "receiver_id": "CORE01",
        "receiver_qualifier": "ZZ", "submitter_id": "RB1", "submitter_qualifier": "ZZ",
        "contact_name": "Pat", "contact_phone": "5035550100", "usage": "T",
        "element_separator": "*", "component_separator": ":", "repetition_separator": "^",
        "segment_terminator": "~", "transport": "folder", "sftp_port": 22,
        "sftp_remote_dir": "inbound", "is_active": "on", "realtime_transport": "core_mime",
        "core_url": "https://core.example.com/x12", "core_username": "rb",
        "core_password": "Pa55-word-xyz", "realtime_timeout_seconds": 8, "realtime_retries": 1,
    }  # fmt: skip
    client = client_for(biller)
    assert client.post(f"{BASE}clearinghouses/", data).status_code == 302
    with tenant_context(billing.org):
        from submissions.models import Clearinghouse

        ch = Clearinghouse.objects.get(code="core")
        assert ch.core_password_encrypted and "Pa55-word-xyz" not in ch.core_password_encrypted
    page = client.get(f"{BASE}clearinghouses/{ch.pk}/").content.decode()
    assert "Pa55-word-xyz" not in page and ch.core_password_encrypted not in page
    data["core_password"] = ""  # left empty: the stored one is kept
    data["realtime_timeout_seconds"] = 5
    assert client.post(f"{BASE}clearinghouses/{ch.pk}/", data).status_code == 302
    with tenant_context(billing.org):
        again = Clearinghouse.objects.get(pk=ch.pk)
    assert again.core_password_encrypted == ch.core_password_encrypted
    assert again.realtime_timeout_seconds == 5
