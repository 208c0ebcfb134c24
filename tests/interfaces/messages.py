"""HL7 v2 messages for the tests, built from the suite's clock."""

from __future__ import annotations

from datetime import date, datetime

from tests import clock

HL7 = "application/hl7-v2"


def ts(moment: datetime | date) -> str:
    return moment.strftime("%Y%m%d%H%M%S" if isinstance(moment, datetime) else "%Y%m%d")


def msh(kind: str, control_id: str, *, version: str = "2.5.1") -> str:
    return f"MSH|^~\\&|EHR|CLINIC|PARITY|RIVERBEND|20261201090000||{kind}|{control_id}|P|{version}"


def adt(
    event: str,
    control_id: str,
    *,
    mrn: str = "R-100",
    last: str = "Rivera",
    first: str = "Ana",
    born: str = "19900214",
    sex: str = "F",
    insurance: str = "",
) -> str:
    segments = [
        msh(f"ADT^{event}^ADT_A01", control_id),
        f"EVN|{event}|20261201090000",
        f"PID|1||{mrn}^^^CLINIC^MR||{last}^{first}^M||{born}|{sex}|||"
        "12 Elm Ave^Apt 4^Portland^OR^97205||5035550100^^^ana@example.com",
        "PV1|1|O",
    ]
    if insurance:
        segments.append(insurance)
    return "\r".join(segments) + "\r"


def in1(
    *,
    payer_id: str = "BP001",
    member_id: str = "W77",
    effective: str = "20260101",
    relationship: str = "SEL",
    priority: str = "1",
    insured: str = "",
    insured_born: str = "",
) -> str:
    fields = [""] * 50
    fields[1] = priority
    fields[2] = "PLAN1^Blue Gold"
    fields[3] = payer_id
    fields[4] = "Blue Plan"
    fields[8] = "G-55"
    fields[9] = "ACME EMPLOYEES"
    fields[12] = effective
    fields[16] = insured
    fields[17] = relationship
    fields[18] = insured_born
    fields[36] = member_id
    return "IN1|" + "|".join(fields[1:37])


def dft(
    control_id: str,
    *,
    mrn: str = "C-1",
    code: str = "90837",
    start: datetime | None = None,
    end: datetime | None = None,
    day: date | None = None,
    units: str = "1",
    npi: str = "",
    modifiers: str = "",
    diagnoses: tuple[str, ...] = ("F33.1",),
    version: str = "2.5.1",
) -> str:
    when = f"{ts(start)}^{ts(end)}" if start and end else ts(day or clock.today())
    fields = [""] * 27
    fields[1] = "1"
    fields[4] = when
    fields[6] = "CG"
    fields[7] = f"{code}^^CPT"
    fields[10] = units
    fields[20] = f"{npi}^Park^Lena" if npi else ""
    fields[26] = modifiers
    segments = [
        msh("DFT^P03^DFT_P03", control_id, version=version),
        "EVN|P03|20261201090000",
        f"PID|1||{mrn}^^^CLINIC^MR||Doe^Jane||19800501|F",
        "PV1|1|O",
        "FT1|" + "|".join(fields[1:]),
    ]
    segments += [f"DG1|{i}||{code}^^I10" for i, code in enumerate(diagnoses, start=1)]
    return "\r".join(segments) + "\r"


def ack_fields(ack: str) -> dict[str, list[str]]:
    """{segment id: fields} of an ACK (its MSA and ERR)."""
    return {line.split("|")[0]: line.split("|") for line in ack.split("\r") if line}
