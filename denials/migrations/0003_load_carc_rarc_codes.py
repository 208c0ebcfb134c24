"""CARC and RARC code lists, in our own short wording, with the posting kind and the work-queue
category of docs/shared domain.md section 6. Reference data: global, not tenant data."""

from django.db import migrations

# code: (our wording, kind, category)
CARCS = {
    "1": ("Deductible amount", "patient_share", ""),
    "2": ("Coinsurance amount", "patient_share", ""),
    "3": ("Copayment amount", "patient_share", ""),
    "4": ("Modifier inconsistent with the procedure, or missing", "denial", "coding"),
    "5": ("Place of service inconsistent with the procedure", "denial", "coding"),
    "11": ("Diagnosis inconsistent with the procedure", "denial", "coding"),
    "15": ("Authorization number missing or invalid", "denial", "authorization"),
    "16": (
        "Claim lacks information needed to adjudicate (see the remark code)",
        "denial",
        "information_missing",
    ),
    "18": ("Exact duplicate claim or service", "denial", "duplicate"),
    "22": ("Another payer may be primary (coordination of benefits)", "denial", "cob"),
    "23": ("Impact of a prior payer's adjudication", "contractual", ""),
    "24": ("Covered under a capitation or managed care plan", "contractual", ""),
    "26": ("Service before coverage began", "denial", "eligibility"),
    "27": ("Service after coverage ended", "denial", "eligibility"),
    "29": ("Time limit for filing has expired", "denial", "timely_filing"),
    "31": ("Patient not identified as our insured", "denial", "eligibility"),
    "42": ("Charge exceeds the fee schedule or maximum allowed", "contractual", ""),
    "45": ("Charge exceeds the fee schedule or contracted amount", "contractual", ""),
    "50": ("Not deemed medically necessary", "denial", "medical_necessity"),
    "59": ("Reduced under multiple or concurrent procedure rules", "contractual", ""),
    "94": ("Processed in excess of charges", "contractual", ""),
    "96": ("Non-covered service", "denial", "coverage"),
    "97": ("Included in the payment for another service (bundled)", "denial", "coding"),
    "109": ("Not covered by this payer; send to the correct payer", "denial", "eligibility"),
    "119": ("Benefit maximum for the period reached", "denial", "benefit_limit"),
    "151": (
        "Information does not support this many or this frequency of services",
        "denial",
        "medical_necessity",
    ),
    "170": ("Not paid when performed or billed by this provider type", "denial", "credentialing"),
    "185": ("Rendering provider not eligible to perform the service", "denial", "credentialing"),
    "197": ("Precertification or authorization absent", "denial", "authorization"),
    "198": ("Precertification or authorization exceeded", "denial", "authorization"),
    "204": ("Service not covered under the patient's current plan", "denial", "coverage"),
    "252": ("Attachment or other documentation required", "denial", "documentation"),
    "253": ("Sequestration reduction", "contractual", ""),
    "A2": ("Contractual adjustment", "contractual", ""),
    "B7": ("Provider not certified for this service on this date", "denial", "credentialing"),
}

# code: (our wording, category that refines an 'information missing' CARC, or "")
RARCS = {
    "M15": ("Separately billed services bundled as components of another procedure", "coding"),
    "M62": ("Missing, incomplete or invalid treatment authorization code", "authorization"),
    "M76": ("Missing, incomplete or invalid diagnosis", "coding"),
    "M77": ("Missing, incomplete or invalid place of service", "coding"),
    "M127": ("Missing patient medical record for this service", "documentation"),
    "MA04": (
        "Secondary payment cannot be considered without the primary's payment information",
        "cob",
    ),
    "MA130": ("Claim contains incomplete or invalid information; submit a new claim", ""),
    "N20": ("Service not payable with other service rendered the same date", "coding"),
    "N54": (
        "Claim information inconsistent with pre-certified or authorized services",
        "authorization",
    ),
    "N115": ("Decision based on a local coverage determination", "medical_necessity"),
    "N130": ("Consult plan benefit documents for coverage", "coverage"),
    "N290": ("Missing or invalid rendering provider identifier", "credentialing"),
    "N362": ("Units exceed the number allowed for this service", "benefit_limit"),
    "N479": ("Missing explanation of benefits from the other payer", "cob"),
    "N657": ("Should be billed with the appropriate code for these services", "coding"),
}


def load(apps, schema_editor):
    Reason = apps.get_model("denials", "AdjustmentReason")
    Remark = apps.get_model("denials", "RemarkCode")
    for code, (text, kind, category) in CARCS.items():
        Reason.objects.update_or_create(
            code=code, defaults={"description": text, "kind": kind, "category": category}
        )
    for code, (text, category) in RARCS.items():
        Remark.objects.update_or_create(
            code=code, defaults={"description": text, "category": category}
        )


def unload(apps, schema_editor):
    apps.get_model("denials", "AdjustmentReason").objects.filter(code__in=list(CARCS)).delete()
    apps.get_model("denials", "RemarkCode").objects.filter(code__in=list(RARCS)).delete()


class Migration(migrations.Migration):
    dependencies = [("denials", "0002_denials_row_level_security")]

    operations = [migrations.RunPython(load, unload)]
