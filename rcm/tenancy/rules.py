"""Pure rules of the organization: its billing identity (group NPI, EIN, taxonomy, address), as
the 837 will carry it. No ORM: the settings form and organization_update pass plain values."""

from __future__ import annotations

from x12.identifiers import (
    ein_error,
    npi_error,
    phone_error,
    po_box_error,
    state_error,
    taxonomy_error,
    zip_code_error,
)


def billing_identity_errors(data: dict[str, str]) -> list[tuple[str, str]]:
    """(field, message) for each billing identity value of an organization that the 837 would
    refuse. Only the fields present in `data` are checked; blank values are allowed (the
    organization may not have filled them in yet)."""
    errors: list[tuple[str, str]] = []
    npi = (data.get("group_npi") or "").strip()
    # The NPI is "intelligence-free": nothing in the number says type 1 or type 2, so only the
    # format and check digit can be verified here.
    if npi and (message := npi_error(npi)):
        errors.append(("group_npi", message))
    tax_id = (data.get("tax_id") or "").strip()
    if tax_id and (message := ein_error(tax_id)):
        errors.append(("tax_id", message))
    taxonomy = (data.get("taxonomy_code") or "").strip()
    if taxonomy and (message := taxonomy_error(taxonomy)):
        errors.append(("taxonomy_code", message))
    for field in ("address_line1", "address_line2"):
        if message := po_box_error(data.get(field) or ""):
            errors.append((field, message))
    for field in ("state", "pay_to_state"):
        value = (data.get(field) or "").strip()
        if value and (message := state_error(value)):
            errors.append((field, message))
    for field in ("postal_code", "pay_to_postal_code"):
        value = (data.get(field) or "").strip()
        if value and (message := zip_code_error(value)):
            errors.append((field, message))
    phone = (data.get("phone") or "").strip()
    if phone and (message := phone_error(phone)):
        errors.append(("phone", message))
    return errors
