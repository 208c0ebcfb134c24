"""Pure coding rules for charge capture (domain.md sections 2-4). No ORM, no clock.

Code selection follows the CPT time rules as the domain reference states them; payer-specific
choices (rounding of 15-minute units, telehealth conventions, licensure modifiers, per-diem
minimums) come in as arguments taken from the payer's data, never as branches on payer names.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from claims import codesets


class ServiceKind(StrEnum):
    PSYCHOTHERAPY = "psychotherapy"  # 90832 / 90834 / 90837
    PSYCHOTHERAPY_ADDON = "psychotherapy_addon"  # 90833 / 90836 / 90838 with an E/M visit
    CRISIS = "crisis"  # 90839 + 90840
    FAMILY_WITHOUT_PATIENT = "family_without_patient"  # 90846
    FAMILY_WITH_PATIENT = "family_with_patient"  # 90847
    PER_15_MINUTES = "per_15_minutes"  # H0004, H2019, H0038, ... (per hour: H2012, H2035, S9484)
    TESTING = "testing"  # 96130-96139: first hour / first 30 minutes + each additional
    HEALTH_BEHAVIOR = "health_behavior"  # 96158-96171: first 30 minutes + each additional 15
    ADAPTIVE_BEHAVIOR = "adaptive_behavior"  # 97151-97158: each 15 minutes
    UNTIMED = "untimed"  # 90791, 90792, 90853, 90785, 96127, E/M 99202-99215, per diem


@dataclass(frozen=True)
class CodedLine:
    code: str
    units: int


@dataclass(frozen=True)
class CodeSuggestion:
    billable: bool
    lines: tuple[CodedLine, ...] = ()
    reason: str = ""

    @property
    def primary_code(self) -> str | None:
        return self.lines[0].code if self.lines else None


def _not_billable(reason: str) -> CodeSuggestion:
    return CodeSuggestion(False, (), reason)


def _one(code: str, units: int = 1, reason: str = "") -> CodeSuggestion:
    return CodeSuggestion(True, (CodedLine(code, units),), reason)


def psychotherapy_code(minutes: int, *, with_em: bool = False) -> CodeSuggestion:
    """CPT midpoint rule: < 16 not billable; 16-37 -> 90832; 38-52 -> 90834; >= 53 -> 90837
    (the add-on family 90833 / 90836 / 90838 when billed with an E/M visit)."""
    short, mid, long = ("90833", "90836", "90838") if with_em else ("90832", "90834", "90837")
    if minutes < 16:
        return _not_billable(f"{minutes} minutes of psychotherapy is under the 16-minute minimum.")
    if minutes <= 37:
        return _one(short, reason="16-37 minutes")
    if minutes <= 52:
        return _one(mid, reason="38-52 minutes")
    return _one(long, reason="53 minutes or more")


def crisis_codes(minutes: int) -> CodeSuggestion:
    """Psychotherapy for crisis: under 30 minutes is coded as psychotherapy by time; 30-74 is
    90839; each further 30 minutes past 74 adds a unit of 90840 (75-104 = 1, 105-134 = 2, ...)."""
    if minutes < 30:
        fallback = psychotherapy_code(minutes)
        reason = "Under 30 minutes of crisis care is coded as psychotherapy by time."
        return CodeSuggestion(
            fallback.billable, fallback.lines, fallback.reason if not fallback.billable else reason
        )
    if minutes <= 74:
        return _one("90839", reason="30-74 minutes")
    extra_units = (minutes - 75) // 30 + 1
    return CodeSuggestion(
        True, (CodedLine("90839", 1), CodedLine("90840", extra_units)), f"{minutes} minutes"
    )


def family_psychotherapy_code(minutes: int, *, with_patient: bool) -> CodeSuggestion:
    """90846 (without the patient) / 90847 (with the patient): at least 26 minutes."""
    if minutes < 26:
        return _not_billable(
            f"Family psychotherapy needs at least 26 minutes ({minutes} documented)."
        )
    return _one("90847" if with_patient else "90846")


class UnitRounding(StrEnum):
    """How a payer counts timed units (15-minute or hourly). A payer's own rounding can also be
    `threshold:N`: a partial unit counts once N minutes of it are done."""

    MIDPOINT = "midpoint"  # CMS 8-minute rule / CPT time rule: more than half a unit counts
    WHOLE_UNITS = "whole_units"  # only completed units count


def rounding_threshold(rounding: str, unit_minutes: int) -> int | None:
    """Minutes of a partial unit that make it count (None: a partial unit never counts)."""
    if rounding == UnitRounding.WHOLE_UNITS:
        return None
    if rounding.startswith("threshold:"):
        return int(rounding.split(":", 1)[1])
    return unit_minutes // 2 + 1  # more than half: 8 of 15, 31 of 60


def valid_rounding(value: str) -> bool:
    if value in UnitRounding.__members__.values():
        return True
    head, _, number = value.partition(":")
    return head == "threshold" and number.isdigit() and 1 <= int(number) <= 60


def timed_units(
    minutes: int, *, unit_minutes: int = 15, rounding: str = UnitRounding.MIDPOINT
) -> int:
    whole, rest = divmod(max(minutes, 0), unit_minutes)
    threshold = rounding_threshold(rounding, unit_minutes)
    if threshold is not None and rest and rest >= threshold:
        whole += 1
    return whole


def fifteen_minute_units(minutes: int, *, rounding: str = UnitRounding.MIDPOINT) -> int:
    return timed_units(minutes, unit_minutes=15, rounding=rounding)


def unit_minutes_of(code: str, *, unit_type: str = "") -> int:
    """15 for a per-15-minute code, 60 for an hourly one (the payer may override the type)."""
    known = codesets.load().procedures.get(code)
    kind = unit_type or (known.unit_type if known else codesets.UnitType.PER_15)
    return codesets.UnitType.MINUTES_PER_UNIT.get(kind, 15)


def per_15_minute_code(
    code: str, minutes: int, *, rounding: str = UnitRounding.MIDPOINT, unit_type: str = ""
) -> CodeSuggestion:
    """Units of a timed HCPCS/CPT code: per 15 minutes (per hour for hourly codes), counted by
    the payer's rounding."""
    size = unit_minutes_of(code, unit_type=unit_type)
    units = timed_units(minutes, unit_minutes=size, rounding=rounding)
    label = "hour" if size == 60 else "15-minute"
    if units == 0:
        return _not_billable(f"{minutes} minutes is less than one billable {label} unit of {code}.")
    return _one(
        code, units, reason=f"{minutes} minutes = {units} {label} unit{'s' if units != 1 else ''}"
    )


def ladder_codes(code: str, minutes: int) -> CodeSuggestion:
    """First period + each additional (testing 96130-96139, health behaviour 96158-96171) by the
    CPT time rule: the first code needs more than half its time, each add-on unit more than half
    of its own time past the first period."""
    ladder = codesets.load().ladder_for(code)
    if ladder is None:
        return _not_billable(f"{code} is not a first-period / each-additional code.")
    first_needs = ladder.first_minutes // 2 + 1
    if minutes < first_needs:
        return _not_billable(
            f"{minutes} minutes is under the {first_needs} minutes (more than half of "
            f"{ladder.first_minutes}) that {ladder.first_code} needs."
        )
    past = max(minutes - ladder.first_minutes, 0)
    extra, rest = divmod(past, ladder.addon_minutes)
    if rest > ladder.addon_minutes / 2:
        extra += 1
    lines = [CodedLine(ladder.first_code, 1)]
    if extra:
        lines.append(CodedLine(ladder.addon_code, extra))
    reason = f"{minutes} minutes: {ladder.first_code}" + (
        f" + {extra} x {ladder.addon_code}" if extra else ""
    )
    return CodeSuggestion(True, tuple(lines), reason)


TIMED_FAMILY_PROMPT = {
    ServiceKind.TESTING: "Choose the testing code (96130, 96132, 96136 or 96138).",
    ServiceKind.HEALTH_BEHAVIOR: "Choose the health behaviour code (96158, 96164, 96167 or 96170).",
    ServiceKind.ADAPTIVE_BEHAVIOR: "Choose the adaptive behaviour code (97151-97158).",
}
KIND_FAMILIES: dict[str, str] = {
    ServiceKind.TESTING: "testing",
    ServiceKind.HEALTH_BEHAVIOR: "health_behavior",
    ServiceKind.ADAPTIVE_BEHAVIOR: "adaptive_behavior",
}


def _family_matches(kind: str, code: str) -> bool:
    known = codesets.load().procedures.get(code)
    return known is not None and known.family.startswith(KIND_FAMILIES[kind])


def suggest_codes(
    kind: str,
    *,
    minutes: int | None = None,
    code: str = "",
    rounding: str = UnitRounding.MIDPOINT,
    unit_type: str = "",
) -> CodeSuggestion:
    """The code(s) and units the documented minutes support for a kind of service. `rounding`
    and `unit_type` are the payer's (PayerBillingRule), if it sets them."""
    if kind == ServiceKind.UNTIMED:
        return _one(code) if code else _not_billable("Choose the service code.")
    if minutes is None:
        return _not_billable(
            "Enter the start and end times: this code is chosen by documented time."
        )
    if minutes <= 0:
        return _not_billable("The end time must be after the start time.")
    match kind:
        case ServiceKind.PSYCHOTHERAPY:
            return psychotherapy_code(minutes)
        case ServiceKind.PSYCHOTHERAPY_ADDON:
            return psychotherapy_code(minutes, with_em=True)
        case ServiceKind.CRISIS:
            return crisis_codes(minutes)
        case ServiceKind.FAMILY_WITHOUT_PATIENT:
            return family_psychotherapy_code(minutes, with_patient=False)
        case ServiceKind.FAMILY_WITH_PATIENT:
            return family_psychotherapy_code(minutes, with_patient=True)
        case ServiceKind.PER_15_MINUTES:
            if not code:
                return _not_billable("Choose the per-15-minute HCPCS code (e.g. H0004).")
            return per_15_minute_code(code, minutes, rounding=rounding, unit_type=unit_type)
        case ServiceKind.TESTING | ServiceKind.HEALTH_BEHAVIOR | ServiceKind.ADAPTIVE_BEHAVIOR:
            code = code.strip().upper()
            if not code:
                return _not_billable(TIMED_FAMILY_PROMPT[ServiceKind(kind)])
            if not _family_matches(kind, code):
                return _not_billable(f"{code} is not a {kind.replace('_', ' ')} code.")
            if kind == ServiceKind.ADAPTIVE_BEHAVIOR:
                return per_15_minute_code(code, minutes, rounding=rounding, unit_type=unit_type)
            return ladder_codes(code, minutes)
    return _not_billable(f"Unknown kind of service: {kind}")


@dataclass(frozen=True)
class TimeCheck:
    ok: bool
    message: str = ""
    expected: CodeSuggestion | None = None


def check_billed_code(
    kind: str,
    *,
    billed_code: str,
    billed_units: int,
    minutes: int | None,
    code: str = "",
    rounding: str = UnitRounding.MIDPOINT,
    unit_type: str = "",
) -> TimeCheck:
    """A billed code that disagrees with the documented time is an error, never a silent fix."""
    expected = suggest_codes(
        kind, minutes=minutes, code=code or billed_code, rounding=rounding, unit_type=unit_type
    )
    if kind == ServiceKind.UNTIMED:
        return TimeCheck(True, expected=expected)
    if not expected.billable:
        return TimeCheck(False, expected.reason, expected)
    first = expected.lines[0]
    if billed_code != first.code:
        return TimeCheck(
            False,
            f"{minutes} documented minutes support {first.code}, not {billed_code}.",
            expected,
        )
    if billed_units != first.units:
        return TimeCheck(
            False,
            f"{minutes} documented minutes support {first.units} unit(s) of {first.code}, not {billed_units}.",
            expected,
        )
    return TimeCheck(True, expected=expected)


# --- Telehealth and licensure modifiers --------------------------------------------------------


class TelehealthMode(StrEnum):
    NONE = ""
    AUDIO_VIDEO = "audio_video"
    AUDIO_ONLY = "audio_only"


@dataclass(frozen=True)
class PlaceAndModifiers:
    place_of_service: str
    modifiers: tuple[str, ...] = field(default_factory=tuple)


def telehealth_coding(
    mode: str,
    *,
    in_person_pos: str,
    payer_pos: str,
    payer_modifier: str,
    payer_audio_only_modifier: str,
) -> PlaceAndModifiers:
    """Place of service and modifier for a visit, from the payer's telehealth convention."""
    if mode == TelehealthMode.AUDIO_VIDEO:
        return PlaceAndModifiers(payer_pos, (payer_modifier,) if payer_modifier else ())
    if mode == TelehealthMode.AUDIO_ONLY:
        return PlaceAndModifiers(
            payer_pos, (payer_audio_only_modifier,) if payer_audio_only_modifier else ()
        )
    return PlaceAndModifiers(in_person_pos, ())


# Practitioner-level modifiers many Medicaid plans want (domain.md section 4).
LICENSURE_MODIFIER = {"doctoral": "HP", "masters": "HO", "bachelors": "HN", "below_bachelors": "HM"}


def licensure_modifier(education_level: str, *, payer_requires: bool) -> str | None:
    return LICENSURE_MODIFIER.get(education_level) if payer_requires else None


TELEHEALTH_MODIFIERS = frozenset({"95", "93", "GT", "GQ", "FQ"})


def recode_for_payer(
    modifiers: Sequence[str],
    place_of_service: str,
    *,
    telehealth: str,
    payer_pos: str,
    payer_modifier: str,
    payer_audio_only_modifier: str,
    licensure: str | None,
) -> PlaceAndModifiers:
    """The same service billed to another payer (a secondary claim): the first payer's
    telehealth place of service and modifier and its practitioner-level modifier give way to
    this payer's conventions; every other modifier (59, 25, group HQ...) stays, in order."""
    dropped = set(LICENSURE_MODIFIER.values())
    if telehealth:
        dropped |= TELEHEALTH_MODIFIERS
    kept = [m for m in modifiers if m not in dropped]
    coding = telehealth_coding(
        telehealth,
        in_person_pos=place_of_service,
        payer_pos=payer_pos,
        payer_modifier=payer_modifier,
        payer_audio_only_modifier=payer_audio_only_modifier,
    )
    kept += [m for m in coding.modifiers if m not in kept]
    if licensure and licensure not in kept:
        kept.append(licensure)
    return PlaceAndModifiers(coding.place_of_service, tuple(kept))


# --- Per-diem days ------------------------------------------------------------------------------

# Minimum documented programming per day by level when the payer sets none (domain.md section 2:
# IOP at least 3 hours a day). PHP and residential minimums are per payer data.
DEFAULT_PER_DIEM_MINUTES = {"2.1": 180}


@dataclass(frozen=True)
class PerDiemDecision:
    billable: bool
    reason: str


def per_diem_day(
    level: str, *, documented_minutes: int, payer_minimum_minutes: int | None
) -> PerDiemDecision:
    """A per-diem day is billable only when its documented programming meets the minimum."""
    minimum = (
        payer_minimum_minutes
        if payer_minimum_minutes is not None
        else DEFAULT_PER_DIEM_MINUTES.get(level)
    )
    if minimum is None:
        return PerDiemDecision(True, "No minimum set for this level.")
    if documented_minutes < minimum:
        return PerDiemDecision(
            False,
            f"Short day: {documented_minutes / 60:.2f} hours documented, the minimum for level {level} is {minimum / 60:.2f} hours.",
        )
    return PerDiemDecision(
        True,
        f"{documented_minutes / 60:.2f} hours documented meets the {minimum / 60:.2f}-hour minimum.",
    )


# --- Provider education level (licensure modifiers, contract rates) ------------------------------

EDUCATION_BY_PROVIDER_TYPE = {
    "psychiatrist": "doctoral",
    "psychologist": "doctoral",
    "psych_np": "masters",
    "pa": "masters",
    "lcsw": "masters",
    "lmsw": "masters",
    "lpc": "masters",
    "lmft": "masters",
    "lac": "masters",
    "cac": "bachelors",
    "peer": "below_bachelors",
    "other": "below_bachelors",
}


# --- Revenue codes for facility (837I) per-diem days (domain.md section 2) ----------------------


def revenue_code(level: str, *, substance_use: bool) -> str:
    """Our default revenue code for a per-diem day at a level; payers may want others."""
    if level.endswith("-WM"):
        return "0126" if level in {"3.7-WM", "4-WM"} else "0116"
    if level in {"3.1", "3.3", "3.5", "3.7"}:
        return "1002" if substance_use else "1001"
    if level == "2.5":
        return "0913" if substance_use else "0912"
    if level == "2.1":
        return "0906" if substance_use else "0905"
    return ""


# --- Add-on codes and the primaries they need (claims/codesets: `addon_of`) ------------------


def addon_primaries() -> dict[str, frozenset[str]]:
    """Every add-on code and the primaries it needs the same day (E/M families for 90833,
    90836, 90838; 90839 for 90840; the first-period code for testing and health behaviour)."""
    return {c: p.addon_of for c, p in codesets.load().procedures.items() if p.addon_of}


ADDON_PRIMARIES: dict[str, frozenset[str]] = addon_primaries()
EM_CODES = frozenset(
    code for code, p in codesets.load().procedures.items() if p.family.startswith("em_")
)
TELEHEALTH_POS = frozenset({"02", "10"})


@dataclass(frozen=True)
class CodeInEffect:
    ok: bool
    reason: str = ""


def code_in_effect(code: str, on: date) -> CodeInEffect:
    """A procedure code we carry must be in effect on the date of service (its effective and end
    dates); a code we do not carry is left to the payer's own edits."""
    known = codesets.load().procedures.get(code)
    if known is None or known.in_effect(on):
        return CodeInEffect(True)
    if on < known.effective_from:
        return CodeInEffect(False, f"{code} takes effect on {known.effective_from}, after {on}.")
    return CodeInEffect(
        False, f"{code} ended on {known.effective_to}; it cannot be billed for {on}."
    )


# --- Monthly care management (CoCM, BHI): minutes added up across a calendar month -------------


class CareProgram(StrEnum):
    COCM = "cocm"  # 99492 first month / 99493 later months + 99494 add-on units
    BHI = "bhi"  # 99484
    COCM_FQHC = "cocm_fqhc"  # G0512 (FQHC / RHC)
    DMHT = "dmht"  # G0553 + G0554 (digital mental health treatment management)


def monthly_charges(
    program: str,
    *,
    first_month: bool,
    minutes: int,
    thresholds: Sequence[codesets.MonthlyThreshold] | None = None,
) -> CodeSuggestion:
    """The codes a calendar month's minutes support (claims/codesets/monthly_thresholds.csv):
    first-month or subsequent-month code once its minimum is met, then one add-on unit once
    `addon_threshold` minutes pass its base and one more each `addon_step` minutes after; under
    the minimum nothing, with the reason."""
    month = "first" if first_month else "subsequent"
    rows = codesets.load().monthly if thresholds is None else thresholds
    rule = next((r for r in rows if r.program == program and r.month == month), None)
    if rule is None:
        return _not_billable(f"No monthly code is set for program {program!r}.")
    label = "first month" if first_month else "a later month"
    if minutes < rule.minimum:
        return _not_billable(
            f"{minutes} minutes in {label}: {rule.code} needs at least {rule.minimum}; "
            "nothing is billed for the month."
        )
    lines = [CodedLine(rule.code, 1)]
    past = minutes - rule.base
    if rule.addon_code and past >= rule.addon_threshold:
        units = (past - rule.addon_threshold) // rule.addon_step + 1
        lines.append(CodedLine(rule.addon_code, units))
    extra = f" + {lines[1].units} x {lines[1].code}" if len(lines) > 1 else ""
    return CodeSuggestion(True, tuple(lines), f"{minutes} minutes in {label}: {rule.code}{extra}")
