"""Real-time eligibility through CAQH CORE connectivity (issue 21, item 5): a real HTTPS server in
the test process speaks the MIME multipart envelope and answers 271s."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from alerts.models import Alert
from patients import services as patients
from patients.models import Coverage
from rcm.audit.models import AuditEvent
from rcm.crypto import decrypt, encrypt
from rcm.errors import DomainError
from rcm.tenancy.context import tenant_context
from submissions.models import Clearinghouse
from submissions.services import clearinghouse_save, eligibility_check
from tests.clock import days_ago, now, today
from tests.core_server import PASSWORD, USERNAME, CoreServer, core_server, self_signed


@pytest.fixture
def core(tmp_path: Path, settings: Any) -> Iterator[CoreServer]:
    with core_server(tmp_path) as server:
        settings.CLEARINGHOUSE_CA_BUNDLE = server.ca_bundle
        yield server


@pytest.fixture
def ctx(org: Any) -> Iterator[Any]:
    org.group_npi, org.tax_id = "1234567893", "987654321"
    org.save()
    with tenant_context(org):
        yield org


@pytest.fixture
def coverage(ctx: Any) -> Coverage:
    payer = patients.payer_create(
        name="ABC Health Plan", payer_id="842610001", payer_type="commercial"
    )
    patient = patients.patient_create(
        today=today(), mrn="R-100", first_name="Ana", last_name="Rivera",
        date_of_birth=date(1985, 3, 14), sex="F",
    )  # fmt: skip
    return patients.coverage_create(
        patient=patient, payer=payer, member_id="W123456789", effective_date=days_ago(400)
    )


@pytest.fixture
def clearinghouse(ctx: Any, core: CoreServer) -> Clearinghouse:
    return clearinghouse_save(
        name="Change Hub", code="chub", receiver_name="CHANGE HUB", receiver_id="CHUB01",
        submitter_id="RB12345", contact_name="Billing", contact_phone="3125550100",
        realtime_transport="core_mime", core_url=core.url, core_username=USERNAME,
        core_password=PASSWORD, realtime_timeout_seconds=1, realtime_retries=1,
    )  # fmt: skip


def check(coverage: Coverage, clearinghouse: Clearinghouse) -> Any:
    return eligibility_check(
        coverage=coverage, clearinghouse=clearinghouse, now=now(), today=today()
    )


def test_a_check_sends_a_270_and_the_271_becomes_the_verification(
    coverage: Coverage, clearinghouse: Clearinghouse, core: CoreServer
) -> None:
    request = check(coverage, clearinghouse)
    assert request.status == "answered", request.error
    [sent] = core.requests
    assert sent["PayloadType"] == "X12_270_Request_005010X279A1"
    assert sent["ProcessingMode"] == "RealTime" and sent["CORERuleVersion"] == "2.2.0"
    assert sent["UserName"] == USERNAME and sent["Password"] == PASSWORD
    assert sent["Payload"] == request.raw_request and f"TRN*1*{request.trace_number}*" in (
        request.raw_request
    )
    assert "EQ*30~" in request.raw_request and "EQ*MH~" in request.raw_request
    assert "EB*B*IND*MH" in request.raw_response
    coverage.refresh_from_db()
    assert coverage.copay == Decimal("25.00") and coverage.deductible == Decimal("500.00")
    assert request.verification.method == "271"


def test_the_password_is_stored_encrypted_and_not_in_the_audit(
    clearinghouse: Clearinghouse,
) -> None:
    stored = Clearinghouse.objects.get(pk=clearinghouse.pk).core_password_encrypted
    assert PASSWORD not in stored and decrypt(stored) == PASSWORD
    assert not any(PASSWORD in str(e.detail) for e in AuditEvent.objects.all())
    assert "core_password_encrypted" not in [
        f.name for f in Clearinghouse._meta.get_fields() if getattr(f, "editable", False)
    ]


def test_core_needs_https_and_credentials(ctx: Any) -> None:
    with pytest.raises(DomainError) as exc:
        clearinghouse_save(
            name="X", code="x", receiver_name="X", receiver_id="X1", submitter_id="S1",
            contact_name="B", contact_phone="3125550100", realtime_transport="core_mime",
            core_url="http://example.com/core", core_username="u", core_password="p",
        )  # fmt: skip
    assert exc.value.field == "core_url"
    assert not Clearinghouse.objects.exists()


def test_a_timeout_is_retried_then_no_answer_never_success(
    coverage: Coverage, clearinghouse: Clearinghouse, core: CoreServer
) -> None:
    core.mode, core.delay = "slow", 2.5
    request = check(coverage, clearinghouse)
    assert request.status == "no_answer"
    assert "2 attempt(s)" in request.error and "no answer within 1 s" in request.error
    assert len(core.requests) == 2
    assert not coverage.verifications.exists()


def test_a_server_error_is_retried_then_an_error(
    coverage: Coverage, clearinghouse: Clearinghouse, core: CoreServer
) -> None:
    core.mode = "500"
    request = check(coverage, clearinghouse)
    assert request.status == "error" and "HTTP 500" in request.error
    assert len(core.requests) == 2 and not coverage.verifications.exists()


def test_a_refused_login_is_an_error_not_retried(
    coverage: Coverage, clearinghouse: Clearinghouse, core: CoreServer
) -> None:
    core.mode = "401"
    request = check(coverage, clearinghouse)
    assert request.status == "error" and "HTTP 401" in request.error
    assert len(core.requests) == 1 and request.raw_response == "Unauthorized"


def test_a_malformed_271_is_kept_on_the_request_as_an_error(
    coverage: Coverage, clearinghouse: Clearinghouse, core: CoreServer
) -> None:
    core.mode = "malformed"
    request = check(coverage, clearinghouse)
    assert request.status == "error" and "cannot be read" in request.error
    assert "EB" in request.error and "5X0" in request.raw_response
    coverage.refresh_from_db()
    assert coverage.copay is None and not coverage.verifications.exists()


def test_an_aaa_rejection_marks_the_request_rejected(
    coverage: Coverage, clearinghouse: Clearinghouse, core: CoreServer
) -> None:
    core.mode = "aaa"
    request = check(coverage, clearinghouse)
    assert request.status == "rejected" and "(72)" in request.error
    assert not coverage.verifications.exists()


def test_inactive_coverage_raises_an_alert(
    coverage: Coverage, clearinghouse: Clearinghouse, core: CoreServer
) -> None:
    core.mode = "inactive"
    request = check(coverage, clearinghouse)
    assert request.status == "answered"
    assert Alert.objects.filter(kind="coverage.inactive", patient_id=coverage.patient_id).exists()


def test_a_clearinghouse_without_real_time_is_refused(coverage: Coverage, ctx: Any) -> None:
    batch_only = clearinghouse_save(
        name="Batch", code="batch", receiver_name="B", receiver_id="B1", submitter_id="S1",
        contact_name="B", contact_phone="3125550100",
    )  # fmt: skip
    with pytest.raises(DomainError) as exc:
        check(coverage, batch_only)
    assert exc.value.field == "realtime_transport"
    assert not coverage.eligibility_requests.exists()


def test_check_eligibility_on_the_patient_page_shows_the_answer_within_it(
    coverage: Coverage, clearinghouse: Clearinghouse, biller: Any, client_for: Any
) -> None:
    client = client_for(biller)
    url = f"/o/riverbend/claims/batches/eligibility/{coverage.pk}/check/"
    page = client.get(f"/o/riverbend/patients/{coverage.patient_id}/").content.decode()
    assert url in page and "Check eligibility" in page
    html = client.post(url, HTTP_HX_REQUEST="true").content.decode()
    assert 'data-field="deductible-remaining">$120.50' in html
    assert 'data-field="mh-copay">$25.00' in html
    assert 'class="changed-highlight"><strong>Changed:</strong> Deductible' in html


def test_check_eligibility_shows_no_answer_and_another_orgs_coverage_is_404(
    coverage: Coverage,
    clearinghouse: Clearinghouse,
    core: CoreServer,
    biller: Any,
    client_for: Any,
    other_org: Any,
) -> None:
    core.mode, core.delay = "slow", 2.5
    client = client_for(biller)
    url = f"/o/riverbend/claims/batches/eligibility/{coverage.pk}/check/"
    html = client.post(url, HTTP_HX_REQUEST="true").content.decode()
    # A timeout is "no answer" with a Retry button (posting the same check), never a success.
    assert 'data-status="no_answer"' in html and "No answer:" in html
    assert f'hx-post="{url}"' in html and ">Retry<" in html
    assert "Deductible remaining" not in html and not coverage.verifications.exists()
    core.mode = "benefits"
    retried = client.post(url, HTTP_HX_REQUEST="true").content.decode()
    assert 'data-status="answered"' in retried and ">Retry<" not in retried
    assert coverage.verifications.count() == 1
    with tenant_context(other_org):
        payer = patients.payer_create(name="P", payer_id="P1", payer_type="commercial")
        theirs = patients.patient_create(
            today=today(), mrn="H-1", first_name="A", last_name="B",
            date_of_birth=date(1990, 1, 1), sex="M",
        )  # fmt: skip
        their_coverage = patients.coverage_create(
            patient=theirs, payer=payer, member_id="X1", effective_date=days_ago(10)
        )
    response = client.post(
        f"/o/riverbend/claims/batches/eligibility/{their_coverage.pk}/check/",
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 404


def test_the_api_runs_a_check_and_answers_with_the_benefits(
    org: Any,
    coverage: Coverage,
    clearinghouse: Clearinghouse,
    core: CoreServer,
    api_client_for: Any,
    other_org: Any,
) -> None:
    api = api_client_for(org, ["patients:read", "patients:write"])
    response = api.post(
        "/api/v1/eligibility-checks/", {"coverage": str(coverage.pk)}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "answered" and body["is_active_coverage"] is True
    assert body["deductible_remaining"] == "120.50" and body["mental_health_copay"] == "25.00"
    assert any(c["field"] == "deductible" and c["highlight"] for c in body["changes"])
    listed = api.get(f"/api/v1/eligibility-checks/?coverage={coverage.pk}").json()
    assert [r["id"] for r in listed["results"]] == [body["id"]]
    core.mode = "aaa"
    rejected = api.post(
        "/api/v1/eligibility-checks/", {"coverage": str(coverage.pk)}, format="json"
    ).json()
    assert rejected["status"] == "rejected" and rejected["verification"] is None
    # Another organization's key sees none of it.
    theirs = api_client_for(other_org, ["patients:read", "patients:write"])
    assert theirs.get(f"/api/v1/eligibility-checks/{body['id']}/").status_code == 404
    refused = theirs.post(
        "/api/v1/eligibility-checks/", {"coverage": str(coverage.pk)}, format="json"
    )
    assert refused.status_code == 400 and "coverage" in refused.content.decode()


def test_a_271_with_auth_required_updates_the_verification_and_the_patient_page_shows_it(
    coverage: Coverage, clearinghouse: Clearinghouse, core: CoreServer, biller: Any, client_for: Any
) -> None:
    client = client_for(biller)
    patient_page = f"/o/riverbend/patients/{coverage.patient_id}/"
    assert "Authorization required" not in client.get(patient_page).content.decode()
    core.mode = "auth_required"
    html = client.post(
        f"/o/riverbend/claims/batches/eligibility/{coverage.pk}/check/", HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "Authorization required" in html
    verification = coverage.verifications.get()
    assert verification.method == "271"
    assert {"field": "auth_required", "label": "Authorization required", "before": None,
            "after": "True", "highlight": True} in verification.changes  # fmt: skip
    page = client.get(patient_page).content.decode()
    # Beside the coverage: the badge, and the difference from the last verification.
    assert 'data-field="auth-required">Authorization required' in page
    assert (
        '<li data-change="auth_required" class="changed-highlight"><strong>Changed:</strong> '
        "Authorization now required</li>"
    ) in page


def cert_hub(url: str, cert_pem: str, key_pem: str) -> Clearinghouse:
    """A clearinghouse that authenticates with a client certificate, no password."""
    return clearinghouse_save(
        name="Cert Hub", code="certhub", receiver_name="CERT HUB", receiver_id="CERT01",
        submitter_id="RB12345", contact_name="Billing", contact_phone="3125550100",
        realtime_transport="core_mime", core_url=url, core_username="",
        realtime_timeout_seconds=2, realtime_retries=0,
        core_client_cert=cert_pem, core_client_key=key_pem,
    )  # fmt: skip


def test_a_client_certificate_authenticates_to_a_server_that_asks_for_one(
    coverage: Coverage, tmp_path: Path, settings: Any
) -> None:
    with core_server(tmp_path, require_client_cert=True) as server:
        settings.CLEARINGHOUSE_CA_BUNDLE = server.ca_bundle
        hub = cert_hub(server.url, server.client_cert_pem, server.client_key_pem)
        stored = Clearinghouse.objects.get(pk=hub.pk)
        assert "BEGIN" not in stored.core_client_cert_encrypted + stored.core_client_key_encrypted
        assert decrypt(stored.core_client_key_encrypted).strip() == server.client_key_pem.strip()
        request = check(coverage, hub)
        assert request.status == "answered", request.error
        assert server.client_names == ["riverbend-client"]
        assert server.requests[0]["UserName"] == ""  # the certificate, not a password
        # Without the certificate the server refuses the handshake: no answer, never success.
        hub.core_client_cert_encrypted = hub.core_client_key_encrypted = ""
        hub.core_password_encrypted = encrypt(PASSWORD)
        hub.save()
        refused = check(coverage, hub)
        assert refused.status in ("no_answer", "error") and refused.verification is None


def test_a_client_certificate_must_be_pem_and_match_its_key(ctx: Any, tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path, "one", "one")
    other_cert, other_key = self_signed(tmp_path, "two", "two")
    cases = [
        ("not a certificate", key.read_text(), "core_client_cert"),
        (cert.read_text(), "not a key", "core_client_key"),
        (cert.read_text(), other_key.read_text(), "core_client_key"),
        (cert.read_text(), "", "core_client_key"),
    ]
    for cert_pem, key_pem, field in cases:
        with pytest.raises(DomainError) as exc:
            cert_hub("https://core.example/", cert_pem, key_pem)
        assert exc.value.field == field, exc.value.message
    assert not Clearinghouse.objects.exists()
    assert other_cert.exists()
