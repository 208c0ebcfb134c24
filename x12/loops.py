"""Loop names for a readable 837 (one segment per line with the loop it belongs to)."""

from __future__ import annotations

from .reader import segments_of

HEADER = "Header"
NAMED_ENTITIES_837P = {
    "41": "1000A Submitter",
    "40": "1000B Receiver",
    "85": "2010AA Billing provider",
    "87": "2010AB Pay-to address",
    "IL": "2010BA Subscriber",
    "PR": "2010BB Payer",
    "QC": "2010CA Patient",
    "82": "2310B Rendering provider",
    "77": "2310C Service facility",
    "DQ": "2310D Supervising provider",
}
NAMED_ENTITIES_837I = {
    **NAMED_ENTITIES_837P,
    "71": "2310A Attending provider",
    "82": "2310D Rendering provider",
    "77": "2310E Service facility",
}
LEVELS = {"20": "2000A Billing provider", "22": "2000B Subscriber", "23": "2000C Patient"}


def label_loops(text: str) -> list[tuple[str, str]]:
    """(loop name, segment as written) for every segment of an 837."""
    segments = segments_of(text)
    institutional = any(s.id == "GS" and s.element(8).startswith("005010X223") for s in segments)
    names = NAMED_ENTITIES_837I if institutional else NAMED_ENTITIES_837P
    out: list[tuple[str, str]] = []
    loop = HEADER
    for seg in segments:
        sid = seg.id
        if sid in ("ISA", "GS", "ST", "BHT"):
            loop = HEADER
        elif sid == "HL":
            loop = LEVELS.get(seg.element(3), "HL")
        elif sid == "NM1":
            loop = names.get(seg.element(1), loop)
        elif sid == "CLM":
            loop = "2300 Claim"
        elif sid == "LX":
            loop = f"2400 Service line {seg.element(1)}"
        elif sid in ("SE", "GE", "IEA"):
            loop = "Trailer"
        out.append((loop, "*".join(seg.fields)))
    return out
