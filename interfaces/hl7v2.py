"""HL7 v2 messages as plain data: parsing (python-hl7), the fields Parity reads, and ACKs.

No ORM and no clock: the services pass `now` and the organization's time zone. A problem is an
`Hl7Problem` naming the segment, its sequence and the field, with the HL7 error code (table 0357)
the ACK's ERR segment carries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Any

import hl7

# Field positions used here are the same from v2.3 to v2.8; the profile is written for 2.5.1.
SUPPORTED_VERSIONS = frozenset(
    {"2.3", "2.3.1", "2.4", "2.5", "2.5.1", "2.6", "2.7", "2.7.1", "2.8"}
)
ADT_EVENTS = frozenset({"A04", "A08", "A28", "A31"})
SUPPORTED = {"ADT": ADT_EVENTS, "DFT": frozenset({"P03"})}


class ErrorCode:
    """HL7 table 0357 (message error condition codes)."""

    REQUIRED_FIELD_MISSING = "101"
    DATA_TYPE_ERROR = "102"
    TABLE_VALUE_NOT_FOUND = "103"
    UNSUPPORTED_MESSAGE_TYPE = "200"
    UNSUPPORTED_EVENT_CODE = "201"
    UNSUPPORTED_VERSION = "203"
    UNKNOWN_KEY = "204"
    INTERNAL_ERROR = "207"

    TEXT = {
        "101": "Required field missing",
        "102": "Data type error",
        "103": "Table value not found",
        "200": "Unsupported message type",
        "201": "Unsupported event code",
        "203": "Unsupported version id",
        "204": "Unknown key identifier",
        "207": "Application internal error",
    }


@dataclass(frozen=True)
class Location:
    segment: str
    sequence: int
    field: int

    def __str__(self) -> str:
        return f"{self.segment}-{self.field}" if self.field else self.segment


class Hl7Problem(Exception):
    """A message Parity refuses: AR (`reject`) for the envelope (MSH: version, type, required
    fields), AE for its content. `location` names the segment and field."""

    def __init__(
        self, message: str, *, location: Location, code: str, reject: bool = False
    ) -> None:
        super().__init__(message)
        self.message = message
        self.location = location
        self.code = code
        self.reject = reject
        # The MSH as far as it could be read, for the ACK of an AR (MSA-2 echoes MSH-10).
        self.header: Header | None = None

    @property
    def text(self) -> str:
        return f"{self.location}: {self.message}"


@dataclass(frozen=True)
class Header:
    message_type: str  # MSH-9.1
    event: str  # MSH-9.2
    control_id: str  # MSH-10
    version: str  # MSH-12
    sending_application: str  # MSH-3
    sending_facility: str  # MSH-4
    receiving_application: str  # MSH-5
    receiving_facility: str  # MSH-6

    @property
    def type_label(self) -> str:
        return f"{self.message_type}^{self.event}"


def normalize(raw: str) -> str:
    """Segments end with a carriage return; senders (and HTTP clients) often use LF or CRLF."""
    text = raw.replace("\r\n", "\r").replace("\n", "\r").strip("\r \t\x00")
    return "\r".join(s for s in text.split("\r") if s.strip())


def _msh(segment: str, field: int) -> Location:
    return Location(segment, 1, field)


def parse(raw: str) -> hl7.Message:
    """The message, or AR naming MSH-1 when it is not HL7 v2 at all."""
    text = normalize(raw)
    if not text.startswith("MSH") or len(text) < 8 or "\x00" in text:
        raise Hl7Problem(
            "The message must start with an MSH segment.",
            location=_msh("MSH", 1),
            code=ErrorCode.REQUIRED_FIELD_MISSING,
            reject=True,
        )
    try:
        message = hl7.parse(text)
        if str(message[0][0]) != "MSH":
            raise ValueError("the first segment is not MSH")
    except Exception as exc:  # python-hl7 raises several types for malformed text
        raise Hl7Problem(
            f"The message cannot be parsed: {exc}",
            location=_msh("MSH", 2),
            code=ErrorCode.DATA_TYPE_ERROR,
            reject=True,
        ) from exc
    return message


def value(segment: Any, field: int, component: int = 1, rep: int = 1) -> str:
    """One component of a field of a segment ('' when absent), unescaped and stripped."""
    try:
        raw = segment.extract_field(field_num=field, repeat_num=rep, component_num=component)
    except (IndexError, KeyError, TypeError, AttributeError):
        return ""
    # python-hl7 has already unescaped the value.
    return str(raw).strip() if raw else ""


def repetitions(segment: Any, field: int) -> int:
    try:
        item = segment[field]
    except IndexError:
        return 0
    if isinstance(item, hl7.Field) and item and isinstance(item[0], hl7.Repetition):
        return len(item)
    return 1 if str(item) else 0


def header(message: hl7.Message) -> Header:
    """The MSH fields Parity needs, or AR naming the first one missing or refused."""
    msh = message.segment("MSH")

    def get(field: int, component: int = 1) -> str:
        return value(msh, field, component)

    found = Header(
        message_type=get(9, 1).upper(),
        event=get(9, 2).upper(),
        control_id=get(10)[:199],
        version=get(12),
        sending_application=get(3),
        sending_facility=get(4),
        receiving_application=get(5),
        receiving_facility=get(6),
    )
    try:
        _check(found, get)
    except Hl7Problem as problem:
        problem.header = found
        raise
    return found


def _check(found: Header, get: Any) -> None:
    for field, name in ((9, "message type"), (10, "message control id"), (12, "version id")):
        if not get(field):
            raise Hl7Problem(
                f"MSH-{field} ({name}) is required.",
                location=_msh("MSH", field),
                code=ErrorCode.REQUIRED_FIELD_MISSING,
                reject=True,
            )
    if len(get(10)) > 199:
        raise Hl7Problem(
            "MSH-10 is longer than 199 characters.",
            location=_msh("MSH", 10),
            code=ErrorCode.DATA_TYPE_ERROR,
            reject=True,
        )
    if found.version not in SUPPORTED_VERSIONS:
        raise Hl7Problem(
            f"Version {found.version} is not accepted; send v2.3 to v2.8 (profile: 2.5.1).",
            location=_msh("MSH", 12),
            code=ErrorCode.UNSUPPORTED_VERSION,
            reject=True,
        )
    if found.message_type not in SUPPORTED:
        raise Hl7Problem(
            f"Message type {found.message_type} is not accepted (ADT and DFT are).",
            location=_msh("MSH", 9),
            code=ErrorCode.UNSUPPORTED_MESSAGE_TYPE,
            reject=True,
        )
    if found.event not in SUPPORTED[found.message_type]:
        events = ", ".join(sorted(SUPPORTED[found.message_type]))
        raise Hl7Problem(
            f"{found.type_label} is not accepted ({found.message_type} events: {events}).",
            location=_msh("MSH", 9),
            code=ErrorCode.UNSUPPORTED_EVENT_CODE,
            reject=True,
        )


def segments(message: hl7.Message, name: str) -> list[Any]:
    return [s for s in message if str(s[0]) == name]


# --- Values ---------------------------------------------------------------------------------

_TS = re.compile(r"^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:\.\d+)?([+-]\d{4})?$")


def to_date(text: str, *, location: Location) -> date | None:
    """An HL7 DT/TS's day (at least YYYYMMDD), None when empty."""
    if not text:
        return None
    match = _TS.match(text)
    if not match or not match.group(3):
        raise Hl7Problem(
            f"{text!r} is not a date (YYYYMMDD).", location=location, code=ErrorCode.DATA_TYPE_ERROR
        )
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError as exc:
        raise Hl7Problem(
            f"{text!r} is not a date.", location=location, code=ErrorCode.DATA_TYPE_ERROR
        ) from exc


def to_datetime(text: str, *, tz: tzinfo, location: Location) -> datetime | None:
    """An HL7 TS with hours and minutes as an aware datetime (the organization's zone when the
    sender gave no offset); None when empty or given to the day only."""
    if not text:
        return None
    match = _TS.match(text)
    if not match or not match.group(3):
        raise Hl7Problem(
            f"{text!r} is not a date/time (YYYYMMDDHHMM).",
            location=location,
            code=ErrorCode.DATA_TYPE_ERROR,
        )
    if not match.group(5):
        return None
    year, month, day, hour, minute, second = (int(match.group(i) or 0) for i in range(1, 7))
    try:
        moment = datetime(year, month, day, hour, minute, second)  # noqa: DTZ001 (zone below)
    except ValueError as exc:
        raise Hl7Problem(
            f"{text!r} is not a date/time.", location=location, code=ErrorCode.DATA_TYPE_ERROR
        ) from exc
    offset = match.group(7)
    if offset:
        sign = 1 if offset[0] == "+" else -1
        zone: tzinfo = timezone(sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[3:])))
        return moment.replace(tzinfo=zone).astimezone(tz)
    return moment.replace(tzinfo=tz)


def icd10(text: str) -> str:
    """ICD-10-CM as Parity stores it, with the dot (F331 -> F33.1)."""
    code = text.strip().upper()
    if "." not in code and len(code) > 3:
        code = f"{code[:3]}.{code[3:]}"
    return code


# --- ACK ------------------------------------------------------------------------------------

_ESCAPES = (("\\", "\\E\\"), ("|", "\\F\\"), ("^", "\\S\\"), ("~", "\\R\\"), ("&", "\\T\\"))


def escape(text: str) -> str:
    for char, replacement in _ESCAPES:
        text = text.replace(char, replacement)
    return text.replace("\r", " ").replace("\n", " ")


def ack(
    *,
    code: str,
    header: Header | None,
    now: datetime,
    ack_control_id: str,
    text: str = "",
    problem: Hl7Problem | None = None,
) -> str:
    """An ACK (AA, AE or AR) answering `header` (None when the MSH could not be read): MSA-3
    carries `text`; an AE/AR also carries ERR with the segment, sequence and field (ERR-1 for
    v2.3/2.4 receivers, ERR-2 and ERR-3 for v2.5 and later)."""
    version = header.version if header and header.version in SUPPORTED_VERSIONS else "2.5.1"
    event = header.event if header else ""
    msh = "|".join(
        [
            "MSH",
            "^~\\&",
            "PARITY",
            escape(header.receiving_facility if header else ""),
            escape(header.sending_application if header else ""),
            escape(header.sending_facility if header else ""),
            now.strftime("%Y%m%d%H%M%S%z"),
            "",
            f"ACK^{escape(event)}^ACK" if event else "ACK",
            ack_control_id,
            "P",
            version,
        ]
    )
    lines = [
        msh,
        "|".join(["MSA", code, escape(header.control_id if header else ""), escape(text)]),
    ]
    if problem is not None:
        where = problem.location
        label = ErrorCode.TEXT.get(problem.code, "")
        lines.append(
            "|".join(
                [
                    "ERR",
                    f"{where.segment}^{where.sequence}^{where.field}^{problem.code}&{escape(label)}&HL70357",
                    f"{where.segment}^{where.sequence}^{where.field}",
                    f"{problem.code}^{escape(label)}^HL70357",
                    "E",
                    "",
                    "",
                    "",
                    escape(problem.text),
                ]
            )
        )
    return "\r".join(lines) + "\r"
