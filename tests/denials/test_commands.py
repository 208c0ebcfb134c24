from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import call_command

from denials.models import RemittanceImport
from rcm.tenancy.context import tenant_context
from tests.denials.x835 import Clp, Svc, build_835

D = Decimal
pytestmark = pytest.mark.django_db


def test_the_inbound_folder_is_imported_once_and_moved_to_done(practice, submitted, tmp_path):
    claim = submitted()
    with tenant_context(practice.org):
        lcn = claim.lines.get().line_control_number
    text = build_835(
        [
            Clp(
                claim.patient_control_number,
                "1",
                D("150"),
                D("150"),
                lines=[Svc("90834", D("150"), D("150"), lcn=lcn)],
            )
        ]
    )
    (tmp_path / "a.835").write_text(text)
    (tmp_path / "copy-of-a.835").write_text(text)
    (tmp_path / "junk.edi").write_text("not x12")
    (tmp_path / "notes.pdf").write_text("ignored")
    call_command("remittance_import_folder", str(tmp_path), org="riverbend")
    call_command("remittance_import_folder", str(tmp_path), org="riverbend")
    with tenant_context(practice.org):
        statuses = dict(RemittanceImport.objects.values_list("file_name", "status"))
    assert statuses == {"a.835": "pending", "copy-of-a.835": "duplicate", "junk.edi": "rejected"}
    assert sorted(p.name for p in (tmp_path / "done").iterdir()) == [
        "a.835",
        "copy-of-a.835",
        "junk.edi",
    ]
    assert (tmp_path / "notes.pdf").exists()
