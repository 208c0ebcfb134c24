"""HL7 v2 over HTTPS: an EHR registers patients (ADT) and sends charges (DFT^P03) with an API key
holding `hl7:write`, and reads the outcome in the ACK: AA, AE naming the segment and field, AR for
the envelope. Nothing is recorded on AE/AR; a resend gets the first ACK; a charge for a patient
or provider Parity does not know is held, never dropped."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from claims.models import ServiceEntry
from interfaces.models import HeldMessage, HeldReason, Hl7Message
from patients import services as patients_services
from patients.models import Coverage, Patient
from rcm.audit.models import AuditEvent
from rcm.part2 import ORGANIZATION
from rcm.tenancy.context import tenant_context
from tests import clock
from tests.claims.conftest import Practice, admitted, at, dos
from tests.interfaces.messages import HL7, ack_fields, adt, dft, in1

pytestmark = pytest.mark.django_db
URL = "/api/v1/hl7/messages/"


def _send(api: Any, message: str, content_type: str = HL7) -> tuple[str, dict[str, list[str]]]:
    response = api.generic("POST", URL, message.encode(), content_type=content_type)
    assert response.status_code == 200, response.content
    ack = response.content.decode()
    fields = ack_fields(ack)
    assert response["X-HL7-Ack-Code"] == fields["MSA"][1]
    return ack, fields


@pytest.fixture
def ehr(practice: Practice, api_client_for: Any) -> Any:
    """Riverbend's EHR: a key that sends HL7 (no Part 2 grant)."""
    return api_client_for(practice.org, ["hl7:write"])


def _session(practice: Practice, control_id: str, minutes: int = 55, **kwargs: Any) -> str:
    start = at(dos(), 9)
    return dft(
        control_id,
        start=start,
        end=start + timedelta(minutes=minutes),
        npi=practice.provider.npi,
        **kwargs,
    )


# --- ADT -------------------------------------------------------------------------------------


def test_an_a04_registers_the_patient_with_their_insurance(practice: Practice, ehr: Any) -> None:
    _, ack = _send(ehr, adt("A04", "ADT1", insurance=in1()))
    assert ack["MSA"][1:3] == ["AA", "ADT1"]
    assert "registered" in ack["MSA"][3]
    with tenant_context(practice.org):
        patient = Patient.objects.get(mrn="R-100")
        assert (patient.first_name, patient.last_name, patient.middle_name) == (
            "Ana",
            "Rivera",
            "M",
        )
        assert patient.city == "Portland" and patient.email == "ana@example.com"
        coverage = Coverage.objects.get(patient=patient)
        assert (coverage.payer, coverage.member_id, coverage.group_number) == (
            practice.payer,
            "W77",
            "G-55",
        )
        assert coverage.priority == 1 and coverage.relationship == "18"
        actions = set(
            AuditEvent.objects.filter(patient_id=patient.pk).values_list("action", flat=True)
        )
        assert {"patient.create", "coverage.create", "hl7.receive"} <= actions


@pytest.mark.parametrize("event", ["A08", "A31"])
def test_an_update_changes_the_patient_it_names(practice: Practice, ehr: Any, event: str) -> None:
    _, ack = _send(ehr, adt(event, f"UPD-{event}", mrn="C-1", last="Doe-Smith", first="Jane"))
    assert ack["MSA"][1] == "AA" and "updated" in ack["MSA"][3]
    with tenant_context(practice.org):
        patient = Patient.objects.get(pk=practice.patient.pk)
        assert patient.last_name == "Doe-Smith"
        assert AuditEvent.objects.filter(action="patient.update", patient_id=patient.pk).exists()


def test_an_a28_adds_a_person_and_a_dependant_coverage_from_the_guarantor(
    practice: Practice, ehr: Any
) -> None:
    message = adt("A28", "ADT28", mrn="K-7", insurance=in1(relationship="CHD", member_id="W88"))
    message += "GT1|1||Rivera^Marco|||||19650302|M\r"
    _, ack = _send(ehr, message)
    assert ack["MSA"][1] == "AA", ack
    with tenant_context(practice.org):
        coverage = Coverage.objects.get(patient__mrn="K-7")
        assert coverage.relationship == "19"
        assert (coverage.subscriber_first_name, coverage.subscriber_last_name) == (
            "Marco",
            "Rivera",
        )
        assert coverage.subscriber_date_of_birth.isoformat() == "1965-03-02"


def test_an_unknown_payer_is_an_error_naming_in1_3_and_registers_nobody(
    practice: Practice, ehr: Any
) -> None:
    _, ack = _send(ehr, adt("A04", "ADT2", insurance=in1(payer_id="NOPE")))
    assert ack["MSA"][1] == "AE"
    assert ack["ERR"][2] == "IN1^1^3" and "NOPE" in ack["MSA"][3]
    with tenant_context(practice.org):
        assert not Patient.objects.filter(mrn="R-100").exists()
        assert not Hl7Message.objects.exists()


def test_a_date_of_birth_in_the_future_names_pid_7(practice: Practice, ehr: Any) -> None:
    born = (clock.today() + timedelta(days=3)).strftime("%Y%m%d")
    _, ack = _send(ehr, adt("A04", "ADT3", born=born))
    assert ack["MSA"][1] == "AE" and ack["ERR"][2] == "PID^1^7"
    assert "future" in ack["MSA"][3]


def test_a_dependant_without_the_insured_names_in1_16(practice: Practice, ehr: Any) -> None:
    _, ack = _send(ehr, adt("A04", "ADT4", insurance=in1(relationship="SPO")))
    assert ack["MSA"][1] == "AE" and ack["ERR"][2] == "IN1^1^16"
    with tenant_context(practice.org):
        assert not Patient.objects.filter(mrn="R-100").exists()


# --- DFT -------------------------------------------------------------------------------------


def test_a_dft_records_the_charge_through_the_charge_service(practice: Practice, ehr: Any) -> None:
    _, ack = _send(ehr, _session(practice, "DFT1", minutes=55, modifiers="HO"))
    assert ack["MSA"][1:3] == ["AA", "DFT1"], ack
    with tenant_context(practice.org):
        entry = ServiceEntry.objects.get()
        assert (entry.service_code, entry.units, entry.minutes) == ("90837", 1, 55)
        assert entry.patient == practice.patient and entry.rendering_provider == practice.provider
        assert entry.modifiers == ["HO"]
        assert entry.diagnosis_ids == [str(practice.diagnosis.pk)]
        assert entry.start_at == at(dos(), 9)
        record = Hl7Message.objects.get()
        assert record.charge_ids == [str(entry.pk)] and record.message_type == "DFT^P03"
        assert "DFT1" not in record.raw_encrypted  # encrypted at rest


def test_a_dft_sent_twice_records_one_charge_and_answers_the_first_ack(
    practice: Practice, ehr: Any
) -> None:
    first, _ = _send(ehr, _session(practice, "DFT2"))
    again, _ = _send(ehr, _session(practice, "DFT2"))
    assert again == first
    with tenant_context(practice.org):
        assert ServiceEntry.objects.count() == 1
        assert Hl7Message.objects.count() == 1


def test_time_based_coding_applies_to_hl7_charges(practice: Practice, ehr: Any) -> None:
    _, ack = _send(ehr, _session(practice, "DFT3", minutes=40))
    assert ack["MSA"][1] == "AE" and ack["ERR"][2] == "FT1^1^7"
    assert "40 documented minutes support 90834, not 90837" in ack["MSA"][3]
    with tenant_context(practice.org):
        assert not ServiceEntry.objects.exists()


def test_a_timed_code_without_times_names_ft1_4(practice: Practice, ehr: Any) -> None:
    message = dft("DFT4", day=dos(), npi=practice.provider.npi)
    _, ack = _send(ehr, message)
    assert ack["MSA"][1] == "AE" and ack["ERR"][2] == "FT1^1^4"


def test_an_unknown_procedure_code_names_ft1_7_and_creates_nothing(
    practice: Practice, ehr: Any
) -> None:
    _, ack = _send(ehr, _session(practice, "DFT5", code="99999"))
    assert ack["MSA"][1] == "AE"
    assert ack["ERR"][2] == "FT1^1^7" and ack["ERR"][3].startswith("103^")
    assert "Unknown procedure code 99999" in ack["MSA"][3]
    with tenant_context(practice.org):
        assert not ServiceEntry.objects.exists() and not Hl7Message.objects.exists()
    # Fixed and sent again under the same control id, it is processed.
    _, fixed = _send(ehr, _session(practice, "DFT5"))
    assert fixed["MSA"][1] == "AA"


def test_a_diagnosis_not_on_the_episode_names_dg1_3(practice: Practice, ehr: Any) -> None:
    _, ack = _send(ehr, _session(practice, "DFT6", diagnoses=("F41.1",)))
    assert ack["MSA"][1] == "AE" and ack["ERR"][2] == "DG1^1^3"


def test_an_unknown_patient_is_held_not_dropped(practice: Practice, ehr: Any) -> None:
    _, ack = _send(ehr, _session(practice, "DFT7", mrn="NOBODY"))
    assert ack["MSA"][1] == "AA" and "Held for review" in ack["MSA"][3]
    with tenant_context(practice.org):
        held = HeldMessage.objects.select_related("message").get()
        assert held.reason == HeldReason.UNKNOWN_PATIENT and "NOBODY" in held.detail
        assert held.message.control_id == "DFT7"
        assert not ServiceEntry.objects.exists()


def test_an_unknown_provider_is_held(practice: Practice, ehr: Any) -> None:
    start = at(dos(), 9)
    message = dft("DFT8", start=start, end=start + timedelta(minutes=55), npi="1999999992")
    _, ack = _send(ehr, message)
    assert ack["MSA"][1] == "AA"
    with tenant_context(practice.org):
        held = HeldMessage.objects.get()
        assert held.reason == HeldReason.UNKNOWN_PROVIDER and "1999999992" in held.detail


def test_another_tenants_patient_is_unknown_here(
    practice: Practice, ehr: Any, other_org: Any
) -> None:
    with tenant_context(other_org):
        theirs = patients_services.patient_create(
            today=clock.today(),
            mrn="H-9",
            first_name="Hal",
            last_name="Harbor",
            date_of_birth=admitted().replace(year=1970),
            sex="M",
        )
    for control_id, ident in (("DFT9", "H-9"), ("DFT10", str(theirs.pk))):
        _, ack = _send(ehr, _session(practice, control_id, mrn=ident))
        assert ack["MSA"][1] == "AA" and "Held" in ack["MSA"][3]
    with tenant_context(practice.org):
        assert HeldMessage.objects.filter(reason=HeldReason.UNKNOWN_PATIENT).count() == 2
        assert not ServiceEntry.objects.exists()
    with tenant_context(other_org):
        assert not ServiceEntry.objects.exists()


def test_a_part2_charge_follows_the_charge_service_rules(
    practice: Practice, ehr: Any, api_client_for: Any
) -> None:
    with tenant_context(practice.org):
        sud = patients_services.episode_open(
            scopes=ORGANIZATION,
            today=clock.today(),
            patient=practice.patient,
            program_type="substance_use",
            admission_date=admitted(),
            level="1",
        )
        patients_services.diagnosis_add(episode=sud, code="F10.20")
    # Without the Part 2 grant the episode is refused as if it did not exist.
    _, refused = _send(ehr, _session(practice, "SUD1", diagnoses=("F10.20",)))
    assert refused["MSA"][1] == "AE" and "No such episode" in refused["MSA"][3]
    assert "F10.20" not in refused["MSA"][3]
    with tenant_context(practice.org):
        assert not ServiceEntry.objects.exists()
    granted = api_client_for(practice.org, ["hl7:write", "part2:read"])
    _, ack = _send(granted, _session(practice, "SUD1", diagnoses=("F10.20",)))
    assert ack["MSA"][1] == "AA", ack
    with tenant_context(practice.org):
        entry = ServiceEntry.objects.get()
        assert entry.episode == sud
        assert Hl7Message.objects.get().part2 is True


# --- The envelope (AR) -----------------------------------------------------------------------


def test_a_wrong_version_is_rejected(practice: Practice, ehr: Any) -> None:
    _, ack = _send(ehr, _session(practice, "V1", version="3.0"))
    assert ack["MSA"][1:3] == ["AR", "V1"]
    assert ack["ERR"][2] == "MSH^1^12" and ack["ERR"][3].startswith("203^")
    with tenant_context(practice.org):
        assert not ServiceEntry.objects.exists() and not Hl7Message.objects.exists()


def test_a_missing_message_type_is_rejected_naming_msh_9(practice: Practice, ehr: Any) -> None:
    message = _session(practice, "NOTYPE").replace("DFT^P03^DFT_P03", "")
    _, ack = _send(ehr, message)
    assert ack["MSA"][1] == "AR" and ack["ERR"][2] == "MSH^1^9"
    assert "MSH-9" in ack["MSA"][3]


def test_an_unsupported_message_type_is_rejected(practice: Practice, ehr: Any) -> None:
    _, ack = _send(ehr, adt("A01", "A01X"))
    assert ack["MSA"][1] == "AR" and ack["ERR"][3].startswith("201^")
    _, oru = _send(ehr, adt("A04", "ORU1").replace("ADT^A04^ADT_A01", "ORU^R01"))
    assert oru["MSA"][1] == "AR" and oru["ERR"][3].startswith("200^")


def test_text_that_is_not_hl7_is_rejected(practice: Practice, ehr: Any) -> None:
    for body in ("", "hello", "MSH"):
        _, ack = _send(ehr, body, content_type="text/plain")
        assert ack["MSA"][1] == "AR"


def test_line_feeds_between_segments_are_accepted(practice: Practice, ehr: Any) -> None:
    _, ack = _send(ehr, _session(practice, "LF1").replace("\r", "\n"), content_type="text/plain")
    assert ack["MSA"][1] == "AA"


def test_a_key_without_hl7_write_is_refused(practice: Practice, api_client_for: Any) -> None:
    api = api_client_for(practice.org, ["claims:write", "patients:write"])
    response = api.generic("POST", URL, _session(practice, "K1").encode(), content_type=HL7)
    assert response.status_code == 403
    with tenant_context(practice.org):
        assert not ServiceEntry.objects.exists()


@pytest.mark.parametrize(
    ("change", "location"),
    [
        ({"units": "inf"}, "FT1^1^10"),
        ({"units": "1.5"}, "FT1^1^10"),
        ({"npi": "12345"}, "FT1^1^20"),
        ({"modifiers": "TOOLONG"}, "FT1^1^26"),
        ({"code": ""}, "FT1^1^7"),
    ],
)
def test_a_bad_ft1_field_is_named(
    practice: Practice, ehr: Any, change: dict[str, str], location: str
) -> None:
    values = {"npi": practice.provider.npi} | change
    start = at(dos(), 9)
    message = dft("BAD1", start=start, end=start + timedelta(minutes=55), **values)
    _, ack = _send(ehr, message)
    assert ack["MSA"][1] == "AE" and ack["ERR"][2] == location
    with tenant_context(practice.org):
        assert not ServiceEntry.objects.exists()


def test_a_payment_instead_of_a_charge_names_ft1_6(practice: Practice, ehr: Any) -> None:
    _, ack = _send(ehr, _session(practice, "PY1").replace("||CG|", "||PY|"))
    assert ack["MSA"][1] == "AE" and ack["ERR"][2] == "FT1^1^6"


def test_the_documented_a04_example_registers_its_patient(practice: Practice, ehr: Any) -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "integration.md").read_text()
    example = docs.split("```\nMSH|^~\\&|EHR|CLINIC|PARITY|RIVERBEND|20261201090000||ADT^A04")[1]
    message = "MSH|^~\\&|EHR|CLINIC|PARITY|RIVERBEND|20261201090000||ADT^A04" + example
    _, ack = _send(ehr, message.split("```")[0], content_type="text/plain")
    assert ack["MSA"][1:3] == ["AA", "ADT0001"]
    with tenant_context(practice.org):
        assert Coverage.objects.get(patient__mrn="R-100").member_id == "W77"
