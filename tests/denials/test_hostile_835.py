"""Hostile 835s through the import: every reader error (sNaN in money, Infinity, 1E+400 or an
oversized SVC05, AMT*B6*NaN) ends the import `rejected` with the reader's message and segment
position, nothing posted, and the API answers 400, never 500; an empty SVC01 and an 835 whose
component separator is `>` are posted like any other."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.db import DataError

from denials import services
from denials.models import LineBalance, Payment, RemittanceImport, RemittanceLine
from denials.posting import Poster
from rcm.tenancy.context import tenant_context
from tests.clock import today
from tests.denials.test_posting import post
from tests.denials.x835 import Clp, Svc, build_835

D = Decimal
pytestmark = pytest.mark.django_db


def paid_file(claim, lcn: str) -> str:
    return build_835(
        [
            Clp(
                claim.patient_control_number,
                "1",
                D("150"),
                D("150"),
                lines=[Svc("90834", D("150"), D("150"), lcn=lcn, allowed=D("150"))],
            )
        ]
    )


def _replace(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, (old, text)
    return text.replace(old, new)


def _setup(practice, submitted):
    claim = submitted()
    with tenant_context(practice.org):
        lcn = claim.lines.get().line_control_number
    return claim, paid_file(claim, lcn)


CASES = {
    "sNaN CLP04": (lambda t, pcn: _replace(t, f"CLP*{pcn}*1*150*150*", f"CLP*{pcn}*1*150*sNaN*"),
                   "CLP", "CLP04 (claim paid) at segment {n} is 'sNaN', which is not a number"),
    "Infinity SVC05": (lambda t, pcn: _replace(t, "*150*150**1~", "*150*150**Infinity~"),
                       "SVC", "SVC05 (units paid) at segment {n} is 'Infinity', which is not a number"),
    "1E+400 SVC05": (lambda t, pcn: _replace(t, "*150*150**1~", "*150*150**1E+400~"),
                     "SVC", "SVC05 (units paid) at segment {n} is '1E+400', which has an exponent"),
    "oversized SVC05": (lambda t, pcn: _replace(t, "*150*150**1~", "*150*150**123456789~"),
                        "SVC", "which is too large: at most 7 digits before the decimal point"),
    "AMT*B6*NaN": (lambda t, pcn: _replace(t, "AMT*B6*150~", "AMT*B6*NaN~"),
                   "AMT", "AMT02 (amount) at segment {n} is 'NaN', which is not a number"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_reader_error_ends_the_import_rejected_with_the_message(practice, submitted, case):
    mangle, _, reason = CASES[case]
    claim, text = _setup(practice, submitted)
    imp = post(practice.org, mangle(text, claim.patient_control_number))
    assert imp.status == "rejected" and imp.finished_at is not None
    assert imp.error_position is not None
    assert reason.format(n=imp.error_position) in imp.error, imp.error
    with tenant_context(practice.org):
        assert not Payment.objects.exists() and not LineBalance.objects.exists()


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_api_answers_400_not_500(practice, submitted, api_client_for, case):
    mangle, _, reason = CASES[case]
    claim, text = _setup(practice, submitted)
    api = api_client_for(practice.org, ["denials:read", "denials:write"])
    response = api.post(
        "/api/v1/remittances/",
        {"file_name": "era.835", "content": mangle(text, claim.patient_control_number)},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    detail = response.json()["detail"]
    assert reason.format(n=re.search(r"\(segment (\d+)\)$", detail)[1]) in detail, detail


def test_an_empty_svc01_is_posted_not_a_500(practice, submitted, api_client_for):
    _claim, text = _setup(practice, submitted)
    text = _replace(text, "SVC*HC:90834*", "SVC**")
    api = api_client_for(practice.org, ["denials:read", "denials:write"])
    response = api.post("/api/v1/remittances/", {"content": text}, format="json")
    assert response.status_code == 201, response.content
    with tenant_context(practice.org):
        imp = services.remittance_post(import_id=response.json()["id"], today=today())
        assert imp.status == "posted"
        assert RemittanceLine.objects.get().service_code == ""


def test_an_835_with_component_separator_gt_posts_like_one_with_colon(practice, submitted):
    _claim, text = _setup(practice, submitted)
    assert text[104] == ":" and text.count(":") == 2  # ISA16 and SVC01
    imp = post(practice.org, text.replace(":", ">"))
    assert imp.status == "posted", imp.error
    assert imp.summary["matched_claims"] == 1
    with tenant_context(practice.org):
        line = RemittanceLine.objects.get()
        assert (line.service_code, line.paid, line.allowed, line.units) == (
            "90834", D("150"), D("150"), D("1"),
        )  # fmt: skip
        assert LineBalance.objects.get().paid == D("150")


def test_a_value_no_column_holds_ends_the_import_instead_of_leaving_it_pending(
    practice, submitted, monkeypatch
):
    _claim, text = _setup(practice, submitted)

    def overflow(self, parsed):
        raise DataError("numeric field overflow\nDETAIL: A field with precision 12, scale 2")

    monkeypatch.setattr(Poster, "post", overflow)
    imp = post(practice.org, text)
    assert imp.status == "rejected" and imp.finished_at is not None
    assert imp.error == "The file could not be posted; nothing was posted: numeric field overflow."
    with tenant_context(practice.org):
        assert RemittanceImport.objects.get().status == "rejected"
        assert not Payment.objects.exists()


def test_the_readers_limits_match_the_columns():
    from denials import models as m
    from x12.values import MONEY, QUANTITY

    def shape(model, name):
        field = model._meta.get_field(name)
        return field.max_digits, field.decimal_places

    money = (MONEY.max_digits, MONEY.decimal_places)
    for model, name in [(m.Payment, "amount"), (m.RemittanceClaim, "charge"),
                        (m.RemittanceClaim, "paid"), (m.RemittanceClaim, "patient_responsibility"),
                        (m.RemittanceLine, "charge"), (m.RemittanceLine, "paid"),
                        (m.RemittanceLine, "allowed"), (m.RemittanceAdjustment, "amount"),
                        (m.ProviderAdjustment, "amount"), (m.LineBalance, "allowed")]:  # fmt: skip
        assert shape(model, name) == money, (model, name)
    quantity = (QUANTITY.max_digits, QUANTITY.decimal_places)
    assert shape(m.RemittanceLine, "units") == quantity
    assert shape(m.RemittanceAdjustment, "quantity") == quantity
