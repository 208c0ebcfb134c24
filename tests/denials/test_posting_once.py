"""A large 835 is parsed once (the post reads the upload's parse), row keys are proper random
UUIDs, and rows sharing a value in a column are written as the ORM would write them."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from denials import posting, services
from denials.models import RemittanceAdjustment, RemittanceLine
from rcm.tenancy.context import tenant_context
from tests.clock import today
from tests.denials.x835 import Clp, Svc, build_835

D = Decimal
pytestmark = pytest.mark.django_db


def test_the_post_reads_the_uploads_parse_instead_of_parsing_again(
    practice, submitted, monkeypatch
):
    claim = submitted()
    with tenant_context(practice.org):
        line = claim.lines.get()
    text = build_835(
        [Clp(claim.patient_control_number, "1", D("150"), D("80"), D("0"),
             lines=[Svc("90834", D("150"), D("80"), lcn=line.line_control_number,
                        cas=[("CO", "45", D("70"))])])]
    )  # fmt: skip
    parses = []
    real = services._validate
    monkeypatch.setattr(services, "_validate", lambda t: parses.append(t) or real(t))
    with tenant_context(practice.org):
        imp = services.remittance_import_create(file_name="a.835", content=text)
        imp = services.remittance_post(import_id=imp.pk, today=today())
        assert imp.status == "posted", imp.error
        assert len(parses) == 1
        # Another upload of the same bytes is parsed again (and kept as a duplicate).
        again = services.remittance_import_create(file_name="b.835", content=text)
        assert again.status == "duplicate" and len(parses) == 2
        rl = RemittanceLine.objects.get()
        assert (rl.claim_line_id, rl.paid, rl.remark_codes) == (line.pk, D("80.00"), [])
        adjustment = RemittanceAdjustment.objects.get()
        assert (adjustment.remittance_line_id, adjustment.amount) == (rl.pk, D("70.00"))


def test_a_rejected_file_is_not_kept_for_a_post():
    bad = "ISA*00*nonsense~"
    first = services.remittance_validate(bad)
    assert first[0] is None and first[1]
    assert services.remittance_validate(bad) == first


def test_new_ids_are_distinct_version_4_uuids():
    ids = [posting.new_id() for _ in range(5000)]
    assert len(set(ids)) == 5000
    for key in ids[:200]:
        assert key.version == 4 and key.variant == uuid.RFC_4122
        assert uuid.UUID(str(key)) == key and hash(uuid.UUID(key.hex)) == hash(key)
