"""Levels of care (ASAM Criteria numbering, domain.md section 2), as data the rest of the product
reads: a label, the stage of the continuum for the timeline, and an intensity rank that says
whether a transition is a step down or a step up."""

from __future__ import annotations

from django.db import models


class LevelOfCare(models.TextChoices):
    WM_1 = "1-WM", "1-WM Ambulatory withdrawal management"
    WM_2 = "2-WM", "2-WM Ambulatory withdrawal management, extended monitoring"
    WM_3_2 = "3.2-WM", "3.2-WM Clinically managed residential withdrawal management"
    WM_3_7 = "3.7-WM", "3.7-WM Medically monitored inpatient withdrawal management"
    WM_4 = "4-WM", "4-WM Medically managed intensive inpatient withdrawal management"
    RES_3_1 = "3.1", "3.1 Clinically managed low-intensity residential"
    RES_3_3 = "3.3", "3.3 Clinically managed population-specific high-intensity residential"
    RES_3_5 = "3.5", "3.5 Clinically managed high-intensity residential"
    RES_3_7 = "3.7", "3.7 Medically monitored intensive inpatient"
    PHP = "2.5", "2.5 Partial hospitalization (PHP)"
    IOP = "2.1", "2.1 Intensive outpatient (IOP)"
    OUTPATIENT = "1", "1 Outpatient"
    OTP = "OTP", "Opioid treatment program (OTP)"


class Stage(models.TextChoices):
    """The stages of the continuum shown on the episode timeline, most intensive first."""

    DETOX = "detox", "Detox"
    RESIDENTIAL = "residential", "Residential"
    PHP = "php", "PHP"
    IOP = "iop", "IOP"
    OUTPATIENT = "outpatient", "Outpatient"


STAGE_OF: dict[str, str] = {
    LevelOfCare.WM_1: Stage.DETOX,
    LevelOfCare.WM_2: Stage.DETOX,
    LevelOfCare.WM_3_2: Stage.DETOX,
    LevelOfCare.WM_3_7: Stage.DETOX,
    LevelOfCare.WM_4: Stage.DETOX,
    LevelOfCare.RES_3_1: Stage.RESIDENTIAL,
    LevelOfCare.RES_3_3: Stage.RESIDENTIAL,
    LevelOfCare.RES_3_5: Stage.RESIDENTIAL,
    LevelOfCare.RES_3_7: Stage.RESIDENTIAL,
    LevelOfCare.PHP: Stage.PHP,
    LevelOfCare.IOP: Stage.IOP,
    LevelOfCare.OUTPATIENT: Stage.OUTPATIENT,
    LevelOfCare.OTP: Stage.OUTPATIENT,
}

# Higher is more intensive. Withdrawal management sits with the 24-hour levels it resembles.
INTENSITY: dict[str, int] = {
    LevelOfCare.WM_4: 100,
    LevelOfCare.WM_3_7: 90,
    LevelOfCare.RES_3_7: 85,
    LevelOfCare.WM_3_2: 80,
    LevelOfCare.RES_3_5: 75,
    LevelOfCare.RES_3_3: 70,
    LevelOfCare.RES_3_1: 65,
    LevelOfCare.PHP: 50,
    LevelOfCare.WM_2: 45,
    LevelOfCare.IOP: 40,
    LevelOfCare.WM_1: 30,
    LevelOfCare.OTP: 20,
    LevelOfCare.OUTPATIENT: 10,
}

# Per-diem levels usually billed by a facility on the 837I (payers may say otherwise).
FACILITY_LEVELS = frozenset(
    {
        LevelOfCare.WM_3_2,
        LevelOfCare.WM_3_7,
        LevelOfCare.WM_4,
        LevelOfCare.RES_3_1,
        LevelOfCare.RES_3_3,
        LevelOfCare.RES_3_5,
        LevelOfCare.RES_3_7,
        LevelOfCare.PHP,
        LevelOfCare.IOP,
    }
)


def transition_kind(previous: str | None, new: str) -> str:
    """admission, step_down, step_up or lateral."""
    if previous is None:
        return "admission"
    before, after = INTENSITY[previous], INTENSITY[new]
    if after < before:
        return "step_down"
    if after > before:
        return "step_up"
    return "lateral"
