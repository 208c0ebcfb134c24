"""Coding edits from the code sets (claims/codesets): procedure codes in effect on the date of
service, codes a payer refuses, the ICD-10-CM year of each line's date of service, and the
same-day edits (NCCI procedure-to-procedure pairs and medically unlikely edits) applied per
patient, rendering provider and date of service across every claim of that day.

Pure functions over the scrubber's facts (no ORM, no clock); `claims.scrubber.scrub` runs
`CODING_RULES` after its own rules."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from claims import codesets
from claims.rules import code_in_effect
from claims.scrubber import ERROR, WARNING, ClaimFacts, Finding, Rule, icd10_year_tracked
from patients.rules import check_icd10, normalize_icd10

BYPASS_MODIFIERS = frozenset({"59", "XE", "XS", "XP", "XU"})


# --- ICD-10-CM by the year in effect on the date of service --------------------------------------


def fiscal_year(on: date) -> int:
    """The ICD-10-CM year in effect on a day: FY N starts on 1 October of N-1."""
    return on.year + 1 if on.month >= 10 else on.year


@dataclass(frozen=True)
class IcdCheck:
    ok: bool
    reason: str = ""


def icd10_in_effect(
    raw: str, on: date, changes: Iterable[codesets.IcdChange] | None = None
) -> IcdCheck:
    """Is a diagnosis code billable in the ICD-10-CM year in effect on `on`? A code the year
    files add is billable from its year's 1 October; a code they delete is billable until the
    30 September before; any other code is checked against the shipped release."""
    code = normalize_icd10(raw)
    year = fiscal_year(on)
    history = [
        c for c in (codesets.load().icd_changes if changes is None else changes) if c.code == code
    ]
    if not history:
        base = check_icd10(code)
        return IcdCheck(base.ok, base.reason)
    added = [c.fiscal_year for c in history if c.change == "added"]
    deleted = [c.fiscal_year for c in history if c.change == "deleted"]
    if added and year < min(added):
        return IcdCheck(
            False,
            f"{code} is new in FY{min(added)} (from {min(added) - 1}-10-01); on {on} the FY{year} "
            "code set is in effect.",
        )
    ended = [d for d in deleted if d <= year and not any(a > d and a <= year for a in added)]
    if ended:
        return IcdCheck(
            False,
            f"{code} is not billable from FY{max(ended)} ({max(ended) - 1}-10-01): use the more "
            f"specific code of the FY{year} code set in effect on {on}.",
        )
    return IcdCheck(True)


def _diagnosis_year(claim: ClaimFacts) -> list[Finding]:
    out = []
    for line in claim.lines:
        for pointer in line.diagnosis_pointers:
            if not 1 <= pointer <= len(claim.diagnoses):
                continue
            code = claim.diagnoses[pointer - 1].code
            if not icd10_year_tracked(code):
                continue  # the shipped release decides (scrubber._diagnoses)
            check = icd10_in_effect(code, line.date_of_service)
            if not check.ok:
                out.append(
                    Finding(
                        "diagnosis_code_year",
                        ERROR,
                        "diagnosis_pointers",
                        check.reason,
                        "Code the diagnosis from the ICD-10-CM year in effect on the date of service.",
                        line.number,
                    )
                )
    return out


# --- Procedure codes in effect, accepted by the payer, telehealth-eligible -------------------------


def _procedure_codes(claim: ClaimFacts) -> list[Finding]:
    out = []
    sets = codesets.load()
    for line in claim.lines:
        effective = code_in_effect(line.service_code, line.date_of_service)
        if not effective.ok:
            out.append(
                Finding(
                    "code_not_in_effect",
                    ERROR,
                    "service_code",
                    effective.reason,
                    "Bill the code in effect on the date of service.",
                    line.number,
                )
            )
        if line.service_code in claim.payer.coding.not_accepted:
            out.append(
                Finding(
                    "payer_code_not_accepted",
                    ERROR,
                    "service_code",
                    f"{claim.payer.name} does not accept {line.service_code}.",
                    "Bill the code this payer accepts for the service (its billing rules list it).",
                    line.number,
                )
            )
        known = sets.procedures.get(line.service_code)
        if line.telehealth and known is not None and known.telehealth == "no":
            out.append(
                Finding(
                    "telehealth_not_eligible",
                    WARNING,
                    "telehealth",
                    f"{line.service_code} is not on the telehealth list the code set carries.",
                    "Check the payer's telehealth policy before sending.",
                    line.number,
                )
            )
    return out


# --- Same-day edits: NCCI PTP pairs and MUEs ------------------------------------------------------


@dataclass(frozen=True)
class DayLine:
    """A line of the day, from this claim (`claim` empty) or another claim (its number)."""

    claim: str
    number: int
    service_code: str
    modifiers: tuple[str, ...]
    units: int
    date_of_service: date
    rendering_provider: str

    def label(self) -> str:
        where = f"claim {self.claim} line {self.number}" if self.claim else f"line {self.number}"
        return f"{self.service_code} ({where})"


def _day_lines(claim: ClaimFacts) -> dict[tuple[str, date], list[DayLine]]:
    """Every line per rendering provider and date of service: this claim's and the others'."""
    days: dict[tuple[str, date], list[DayLine]] = defaultdict(list)
    for line in claim.lines:
        days[(line.rendering_provider, line.date_of_service)].append(
            DayLine(
                "",
                line.number,
                line.service_code,
                line.modifiers,
                line.units,
                line.date_of_service,
                line.rendering_provider,
            )
        )
    for other in claim.same_day_lines:
        key = (other.rendering_provider, other.date_of_service)
        if key in days:
            days[key].append(
                DayLine(
                    other.claim,
                    other.number,
                    other.service_code,
                    other.modifiers,
                    other.units,
                    other.date_of_service,
                    other.rendering_provider,
                )
            )
    return days


def _ptp(claim: ClaimFacts) -> list[Finding]:
    out = []
    edits = codesets.load().ptp
    for (_, day), lines in _day_lines(claim).items():
        for edit in edits:
            if not edit.in_effect(day):
                continue
            firsts = [x for x in lines if x.service_code == edit.column1]
            seconds = [x for x in lines if x.service_code == edit.column2]
            for first in firsts:
                for second in seconds:
                    if first.claim and second.claim:
                        continue  # both on other claims: theirs to fix
                    bypassed = set(second.modifiers) & BYPASS_MODIFIERS
                    if edit.modifier_indicator == 1 and bypassed:
                        continue
                    ours = second if not second.claim else first
                    if edit.modifier_indicator == 1:
                        hint = (
                            f"Bill one of them, or, if the note documents a distinct session, add "
                            f"XE (or 59/XS/XP/XU) to {edit.column2}."
                        )
                    else:
                        hint = f"Bill one of them: no modifier bypasses this pair (remove {edit.column2})."
                    out.append(
                        Finding(
                            "ncci_ptp",
                            ERROR,
                            "service_code",
                            f"{first.label()} and {second.label()} on {day}: NCCI PTP edit "
                            f"{edit.column1}/{edit.column2} ({edit.quarter}), modifier indicator "
                            f"{edit.modifier_indicator}{' with ' + ', '.join(sorted(bypassed)) + ' not allowed' if bypassed else ''}.",
                            hint,
                            ours.number,
                        )
                    )
    return out


def _mue(claim: ClaimFacts) -> list[Finding]:
    out = []
    limits = codesets.load().mue
    for (_, day), lines in _day_lines(claim).items():
        by_code: dict[str, list[DayLine]] = defaultdict(list)
        seen: set[tuple[str, tuple[str, ...]]] = set()
        for line in lines:
            key = (line.service_code, tuple(sorted(line.modifiers)))
            if key in seen:
                continue  # an exact repeat is the duplicate_line / duplicate_claim_line finding
            seen.add(key)
            by_code[line.service_code].append(line)
        for code, same in by_code.items():
            mue = limits.get(code)
            if mue is None or not mue.in_effect(day) or not any(not x.claim for x in same):
                continue
            if mue.mai == 1:
                over = [x for x in same if not x.claim and x.units > mue.max_units]
                for line in over:
                    out.append(
                        Finding(
                            "ncci_mue",
                            ERROR,
                            "units",
                            f"{line.label()} has {line.units} units on {day}: the MUE for {code} is "
                            f"{mue.max_units} per line ({mue.quarter}).",
                            f"Bill at most {mue.max_units} units on a line.",
                            line.number,
                        )
                    )
                continue
            total = sum(x.units for x in same)
            if total > mue.max_units:
                names = ", ".join(x.label() for x in same)
                first_ours = next(x for x in same if not x.claim)
                out.append(
                    Finding(
                        "ncci_mue",
                        ERROR,
                        "units",
                        f"{total} units of {code} on {day} for this patient and provider ({names}): "
                        f"the MUE is {mue.max_units} a day ({mue.quarter}, MAI {mue.mai}; no modifier "
                        "bypasses it).",
                        f"Bill at most {mue.max_units} units of {code} for the day across all claims.",
                        first_ours.number,
                    )
                )
    return out


# --- Facility revenue codes on 837I lines (claims/codesets/revenue_codes.csv) ----------------------

INSTITUTIONAL = "837I"


def check_revenue_code(
    code: str, on: date, known: Mapping[str, codesets.ProcedureCode] | None = None
) -> str:
    """Why a revenue code cannot go on an 837I line dated `on` ("" when it can): the 837I needs one
    on every line (SV201 is required), from the NUBC codes the data lists, in effect that day."""
    known = codesets.load().revenue_codes if known is None else known
    code = code.strip()
    if not code:
        return "has no revenue code: every 837I line carries one (SV201)."
    entry = known.get(code)
    if entry is None:
        return f"has revenue code {code}, which is not one of the facility revenue codes we bill."
    if not entry.in_effect(on):
        span = f"from {entry.effective_from}" + (
            f" to {entry.effective_to}" if entry.effective_to else ""
        )
        return f"has revenue code {code} ({entry.descriptor}), in effect only {span}, not on {on}."
    return ""


def _revenue_codes(claim: ClaimFacts) -> list[Finding]:
    if claim.claim_form != INSTITUTIONAL:
        return []
    out = []
    for line in claim.lines:
        reason = check_revenue_code(line.revenue_code, line.date_of_service)
        if reason:
            out.append(
                Finding(
                    "revenue_code",
                    ERROR,
                    "revenue_code",
                    f"Line {line.number} ({line.service_code} on {line.date_of_service}) {reason}",
                    "Set the line's revenue code to the NUBC code for the service (e.g. 1001 "
                    "residential psychiatric, 0905 IOP psychiatric, 0912/0913 partial "
                    "hospitalization); docs/coding.md lists them.",
                    line.number,
                )
            )
    return out


CODING_RULES: tuple[Rule, ...] = (_procedure_codes, _diagnosis_year, _ptp, _mue, _revenue_codes)
