"""The organization's pure rules: its billing identity as the 837 will carry it."""

from __future__ import annotations

from rcm.tenancy.rules import billing_identity_errors


def test_billing_identity_errors_name_each_bad_field() -> None:
    errors = dict(
        billing_identity_errors(
            {
                "group_npi": "1234567890",
                "tax_id": "12-34",
                "taxonomy_code": "261QM0801",
                "address_line1": "PO Box 5",
                "address_line2": "",
                "postal_code": "9720",
                "pay_to_postal_code": "97204-12",
                "phone": "555-0100",
            }
        )
    )
    assert set(errors) == {
        "group_npi",
        "tax_id",
        "taxonomy_code",
        "address_line1",
        "postal_code",
        "pay_to_postal_code",
        "phone",
    }
    assert billing_identity_errors({"postal_code": "97204-1234", "phone": "(503) 555-0100"}) == []
    assert billing_identity_errors({"group_npi": "", "tax_id": ""}) == []


def test_the_billing_state_must_be_a_usps_code() -> None:
    assert dict(billing_identity_errors({"state": "Oregon", "pay_to_state": "XX"})).keys() == {
        "state",
        "pay_to_state",
    }
    assert billing_identity_errors({"state": "or", "pay_to_state": "DC"}) == []
