"""`seed_demo`: the organization a newcomer explores after `make run`."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from alerts.models import Alert
from authorizations.models import Authorization
from claims.models import Claim, ClaimLine, ClaimStatus, ServiceEntry
from credentialing.models import Provider
from denials.models import Appeal, Denial, ImportStatus, RemittanceImport
from patients.models import Consent, Coverage, EpisodeOfCare, Patient, Payer
from rcm import part2
from rcm.tenancy.context import tenant_context
from rcm.tenancy.models import Membership, Organization
from submissions import services as submissions
from submissions.models import (
    Acknowledgment,
    BatchClaim,
    BatchStatus,
    Clearinghouse,
    SubmissionBatch,
)
from x12.identifiers import phone_error, zip_code_error

pytestmark = pytest.mark.django_db

COUNTED = (Patient, Coverage, EpisodeOfCare, Consent, Payer, Authorization, Provider,
           ServiceEntry, Claim, ClaimLine, Clearinghouse, SubmissionBatch, Acknowledgment,
           RemittanceImport, Denial, Appeal, Alert, Membership)  # fmt: skip


@pytest.fixture
def demo(settings: Any, tmp_path: Any) -> Organization:
    settings.X12_OUTBOUND_DIR = str(tmp_path / "outbound")
    settings.X12_INBOUND_DIR = str(tmp_path / "inbound")
    settings.X12_SFTP_DEMO_DIR = str(tmp_path / "sftp")
    call_command("seed_demo", stdout=StringIO())
    return Organization.objects.get(slug="riverbend")


def _counts() -> dict[str, int]:
    counts = {"organizations": Organization.objects.count()}
    for org in Organization.objects.all():
        with tenant_context(org):
            for model in COUNTED:
                counts[f"{org.slug}.{model.__name__}"] = model.objects.count()
    return counts


def test_seeding_twice_gives_the_same_counts(demo, settings):
    before = _counts()
    call_command("seed_demo", stdout=StringIO())
    assert _counts() == before
    assert before["riverbend.Patient"] == 30


def test_the_demo_patients_have_valid_addresses_phones_and_coverage(demo):
    with tenant_context(demo):
        patients = list(Patient.objects.prefetch_related("coverages"))
        assert len(patients) == 30
        for p in patients:
            assert p.address_line1 and p.city, p.mrn
            assert len(p.state) == 2 and p.state.isupper(), p.mrn
            assert len(p.postal_code) == 5 and zip_code_error(p.postal_code) is None, p.mrn
            assert phone_error(p.phone) is None, p.mrn
            assert p.coverages.all(), p.mrn
        assert sum(1 for p in patients if len(p.coverages.all()) == 2) >= 5
        assert Payer.objects.filter(submission_method="paper").exists()


def test_the_demo_shows_every_claim_state_a_posted_835_a_denial_an_appeal_and_part2(demo, tmp_path):
    with tenant_context(demo):
        states = set(Claim.objects.values_list("status", flat=True))
        assert states == set(ClaimStatus.values)
        remit = RemittanceImport.objects.get()
        assert remit.status == ImportStatus.POSTED
        assert remit.summary["matched_claims"] == 5 and remit.summary["unmatched"] == 0
        assert Denial.objects.exists()
        appeal = Appeal.objects.exclude(submitted_on=None).select_related("denial__claim").get()
        assert appeal.denial.claim.status == ClaimStatus.APPEALED
        assert "[" not in appeal.letter_body  # a letter with no placeholder left
        part2_episodes = part2.hidden_count(EpisodeOfCare.objects.all(), set())
        assert part2_episodes >= 10
        assert Claim.objects.filter(is_part2=True).exclude(status=ClaimStatus.DRAFT).exists()
        today = demo_today(demo)
        expiring = Authorization.objects.filter(
            status="approved", end_date__gte=today, end_date__lte=today + timedelta(days=7)
        )
        assert expiring.exists()
        assert Alert.objects.filter(kind__icontains="auth").exists()
        # The SFTP clearinghouse delivered (demo mode: a local folder) both batches.
        ch = Clearinghouse.objects.get()
        assert ch.transport == "sftp"
        batches = list(SubmissionBatch.objects.all())
        assert {b.status for b in batches} == {BatchStatus.ACKNOWLEDGED, BatchStatus.RELEASED}
        assert all("sftp (demo mode)" in b.transport_detail for b in batches)
        sent = sorted(p.name for p in (tmp_path / "sftp").rglob("*.x12"))
        assert sent == sorted(b.file_name for b in batches)


def demo_today(org: Organization) -> Any:
    from rcm.tenancy.selectors import organization_today

    return organization_today(org)


def test_the_demos_ready_claims_make_a_batch_pyx12_accepts(demo):
    with tenant_context(demo):
        ready = list(submissions.paper_claims(scopes=part2.ORGANIZATION))
        assert ready, "the paper payer's claims wait for the CMS-1500 print"
        batches = submissions.batches_create(
            clearinghouse=Clearinghouse.objects.get(), scopes=part2.ORGANIZATION
        )
        for batch in batches:
            built = submissions.batch_build(organization_id=demo.pk, batch_id=batch.pk)
            assert built.status == BatchStatus.RELEASED, built.error
            assert submissions.pyx12_validate(built.content) == []


def test_every_demo_patients_claims_pass_the_837_writer_and_pyx12(demo):
    """All the demo's claims (every patient has one), in one file per claim form, rendered and
    checked with pyx12: what a batch of them would send."""
    with tenant_context(demo):
        ch = Clearinghouse.objects.get()
        claims = Claim.objects.all()
        assert set(claims.values_list("patient_id", flat=True)) == set(
            Patient.objects.values_list("pk", flat=True)
        )
        for number, form in enumerate(("837P", "837I"), start=900):
            of_form = list(claims.filter(claim_form=form).order_by("patient_control_number"))
            batch = SubmissionBatch.objects.create(
                clearinghouse=ch, claim_form=form, status=BatchStatus.RELEASED,
                interchange_control_number=number, group_control_number=number,
                transaction_control_number=number, reference=f"{number:09d}",
                envelope_created=demo_today_now(demo), claim_count=len(of_form),
                progress_total=len(of_form),
            )  # fmt: skip
            BatchClaim.objects.bulk_create(
                BatchClaim(organization_id=demo.pk, batch=batch, claim=c, position=n)
                for n, c in enumerate(of_form, start=1)
            )
            text = submissions.batch_prepare(batch=batch).render().text
            assert submissions.pyx12_validate(text) == []
            assert all(c.patient_control_number in text for c in of_form)


def demo_today_now(org: Organization) -> Any:
    from datetime import UTC

    from rcm.tenancy.selectors import organization_now

    return organization_now(org).astimezone(UTC).replace(second=0, microsecond=0)
