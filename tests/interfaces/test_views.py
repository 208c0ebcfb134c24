"""The HL7 exceptions queue: an owner or biller sees the held charges with their message, retries
one once the patient or provider exists (the charge is recorded once), or dismisses it with a
reason; a member without the Part 2 grant never sees a Part 2 message; the list costs a fixed
number of queries."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from claims.models import ServiceEntry
from interfaces.models import HeldMessage, HeldStatus, Hl7Message, MessageStatus
from patients import services as patients_services
from rcm.audit.models import AuditEvent
from rcm.tenancy.context import tenant_context
from rcm.tenancy.permissions import Role
from tests import clock
from tests.claims.conftest import Practice, at, dos
from tests.credentialing.factories import billable_provider
from tests.factories import MembershipFactory, UserFactory
from tests.interfaces.messages import HL7, ack_fields, dft

pytestmark = pytest.mark.django_db
BASE = "/o/riverbend/hl7/exceptions/"
URL = "/api/v1/hl7/messages/"


def _send(api: Any, message: str) -> dict[str, list[str]]:
    response = api.generic("POST", URL, message.encode(), content_type=HL7)
    return ack_fields(response.content.decode())


def _charge(
    control_id: str, *, mrn: str = "C-1", npi: str, diagnoses: tuple[str, ...] = ("F33.1",)
) -> str:
    start = at(dos(), 9)
    return dft(control_id, mrn=mrn, start=start, end=start + timedelta(minutes=55), npi=npi,
               diagnoses=diagnoses)  # fmt: skip


@pytest.fixture
def held_for_provider(practice: Practice, api_client_for: Any) -> HeldMessage:
    """A 55-minute session by Sam, an NPI Parity does not know yet."""
    api = api_client_for(practice.org, ["hl7:write"])
    assert _send(api, _charge("HELD1", npi="1234567893"))["MSA"][1] == "AA"
    with tenant_context(practice.org):
        return HeldMessage.objects.select_related("message").get()


def test_a_biller_sees_the_held_charge_and_its_message(
    held_for_provider: HeldMessage, biller: Any, client_for: Any
) -> None:
    client = client_for(biller)
    listing = client.get(BASE).content.decode()
    assert "Unknown rendering provider" in listing and "HELD1" in listing
    detail = client.get(f"{BASE}{held_for_provider.pk}/").content.decode()
    assert "FT1|1|||" in detail and "MSA|AA|HELD1" in detail


def test_retry_after_the_provider_exists_records_the_charge_once(
    practice: Practice, held_for_provider: HeldMessage, biller: Any, client_for: Any
) -> None:
    client = client_for(biller)
    still = client.post(f"{BASE}{held_for_provider.pk}/retry/", follow=True).content.decode()
    assert "Still held: FT1-20 NPI 1234567893" in still
    billable_provider(practice.org, practice.payer, npi="1234567893", first_name="Sam")
    done = client.post(f"{BASE}{held_for_provider.pk}/retry/", follow=True).content.decode()
    assert "Charged" in done
    client.post(f"{BASE}{held_for_provider.pk}/retry/")
    with tenant_context(practice.org):
        entry = ServiceEntry.objects.get()
        assert entry.rendering_provider.npi == "1234567893" and entry.service_code == "90837"
        held = HeldMessage.objects.select_related("message").get()
        assert held.status == HeldStatus.RESOLVED and held.resolved_by == biller
        assert held.message.status == MessageStatus.PROCESSED
        assert held.message.charge_ids == [str(entry.pk)]
        assert AuditEvent.objects.filter(action="hl7.held.retry").count() == 1


def test_a_retry_for_a_patient_added_later_charges_them(
    practice: Practice, api_client_for: Any, biller: Any, client_for: Any
) -> None:
    api = api_client_for(practice.org, ["hl7:write"])
    _send(api, _charge("HELD2", mrn="C-1", npi=practice.provider.npi).replace("C-1", "NEW-1"))
    with tenant_context(practice.org):
        held = HeldMessage.objects.get()
        patients_services.patient_update(
            patient=practice.patient, data={"mrn": "NEW-1"}, today=clock.today()
        )
    client_for(biller).post(f"{BASE}{held.pk}/retry/")
    with tenant_context(practice.org):
        assert ServiceEntry.objects.get().patient == practice.patient


def test_dismissing_needs_a_reason_and_keeps_it(
    held_for_provider: HeldMessage, biller: Any, client_for: Any, practice: Practice
) -> None:
    client = client_for(biller)
    refused = client.post(f"{BASE}{held_for_provider.pk}/dismiss/", {"reason": "  "})
    assert refused.status_code == 400
    assert 'class="error"' in refused.content.decode()
    client.post(f"{BASE}{held_for_provider.pk}/dismiss/", {"reason": "A test message"})
    with tenant_context(practice.org):
        held = HeldMessage.objects.get()
        assert held.status == HeldStatus.DISMISSED and held.dismiss_reason == "A test message"
        assert not ServiceEntry.objects.exists()
    listing = client.get(BASE).content.decode()
    assert "No held message" in listing


def test_a_part2_message_is_hidden_without_the_grant(
    practice: Practice, api_client_for: Any, client_for: Any
) -> None:
    api = api_client_for(practice.org, ["hl7:write"])
    _send(api, _charge("SUDHELD", mrn="NOBODY", npi=practice.provider.npi, diagnoses=("F10.20",)))
    with tenant_context(practice.org):
        held = HeldMessage.objects.get()
        assert held.part2 and Hl7Message.objects.get().part2
    plain = MembershipFactory(
        organization=practice.org,
        role=Role.BILLER,
        user=UserFactory(email="pat@riverbend.example"),
        part2_access=False,
    ).user
    client = client_for(plain)
    listing = client.get(BASE).content.decode()
    assert "SUDHELD" not in listing and "1 restricted record not shown" in listing
    assert client.get(f"{BASE}{held.pk}/").status_code == 404
    assert client.post(f"{BASE}{held.pk}/dismiss/", {"reason": "x"}).status_code == 404


def test_a_clinician_cannot_open_the_queue(
    held_for_provider: HeldMessage, clinician: Any, manager: Any, client_for: Any
) -> None:
    assert client_for(manager).get(BASE).status_code == 403


def test_another_organizations_held_message_is_not_found(
    held_for_provider: HeldMessage, outsider: Any, client_for: Any
) -> None:
    client = client_for(outsider)
    assert client.get(f"/o/harborview/hl7/exceptions/{held_for_provider.pk}/").status_code == 404


def test_the_list_costs_a_fixed_number_of_queries(
    practice: Practice, api_client_for: Any, biller: Any, client_for: Any,
    django_assert_max_num_queries: Any,
) -> None:  # fmt: skip
    api = api_client_for(practice.org, ["hl7:write"])
    client = client_for(biller)
    _send(api, _charge("Q0", mrn="NOBODY", npi=practice.provider.npi))
    client.get(BASE)
    with django_assert_max_num_queries(12):
        client.get(BASE)
    for n in range(1, 8):
        _send(api, _charge(f"Q{n}", mrn="NOBODY", npi=practice.provider.npi))
    with django_assert_max_num_queries(12):
        page = client.get(BASE)
    assert page.content.decode().count("data-held=") == 8
