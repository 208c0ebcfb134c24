"""pyx12 maps for the 270 (005010X279A1) and the 276 (005010X212), derived at test time.

pyx12 4.0.0, the newest release, ships no 5010 map for either (its maps.xml comments the 5010
270/271/276 entries out). Rather than copy a map from elsewhere, the tests derive one from the
4010 map pyx12 installs (270.4010.X092.A1 and 276.4010.X093.A1: same loops, segments and element
rules), changed only where the 5010 implementation guides changed what we send:

- ST03 (implementation convention reference) exists in 5010 and must name the guide;
- GS08 is the 5010 guide's version (005010X279A1, 005010X212);
- 270 EQ01 gains the service type codes added in 5010 (MH, CE-CJ, UC);
- 270 DTP01 at 2100C/2100D/2110C/2110D is 291 (plan) in 5010 (4010 used 307/472/435/102);
- 276 BHT03 (reference) and BHT05 (time) are used in 5010 (4010 marked them not used);
- 276 REF*EA (medical record number, 4010) became REF*EJ (patient control number) in 5010;
- 276 DTP*472 (service date, D8 or RD8) replaced DTP*232 (RD8 only).

Everything else (loop nesting, required segments and elements, lengths, other code lists) is
pyx12's own 4010 rule. The public TR3-style 270 samples validate with zero errors against the
derived 270 map (tests/x12/test_eligibility_pyx12.py), and a wrong code or a missing segment
still fails: this is a real check, not a copy of our output.
"""

from __future__ import annotations

import shutil
import tempfile
import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path

NEW_SERVICE_TYPES = ["MH", "CE", "CF", "CG", "CH", "CI", "CJ", "UC"]


def _set_codes(element: ET.Element, codes: list[str]) -> None:
    valid = element.find("valid_codes")
    if valid is None:
        valid = ET.SubElement(element, "valid_codes")
    for child in list(valid):
        valid.remove(child)
    for code in codes:
        ET.SubElement(valid, "code").text = code


def _derive(source: Path, target: Path, guide: str) -> None:
    tree = ET.parse(source)  # noqa: S314 - pyx12's own installed map, not input
    root = tree.getroot()
    for segment in root.iter("segment"):
        sid = segment.get("xid")
        elements = segment.findall("element")
        first = elements[0] if elements else None
        first_codes = [c.text for c in first.iter("code")] if first is not None else []
        if sid == "ST":
            st03 = ET.SubElement(segment, "element", xid="ST03")
            for tag, text in (("data_ele", "1705"), ("name", "Implementation Convention Reference"),
                              ("usage", "R"), ("seq", "03")):  # fmt: skip
                ET.SubElement(st03, tag).text = text
            _set_codes(st03, [guide])
        elif sid == "GS":
            for element in elements:
                if element.get("xid") == "GS08":
                    _set_codes(element, [guide])
        elif sid == "BHT" and guide == "005010X212":
            for element in elements:
                if element.get("xid") in ("BHT03", "BHT05"):
                    usage = element.find("usage")
                    assert usage is not None
                    usage.text = "R"
        elif sid == "REF" and guide == "005010X212" and first_codes == ["EA"]:
            name = segment.find("name")
            assert name is not None and first is not None
            name.text = "Patient Control Number"
            _set_codes(first, ["EJ"])
        elif sid == "EQ" and first is not None:
            _set_codes(first, first_codes + NEW_SERVICE_TYPES)
        elif sid == "DTP":
            for element in elements:
                if element.get("xid") == "DTP01":
                    _set_codes(element, ["291"] if guide == "005010X279A1" else ["472"])
                elif element.get("xid") == "DTP02" and guide == "005010X212":
                    _set_codes(element, ["D8", "RD8"])
    tree.write(target, encoding="utf-8", xml_declaration=True)


@cache
def map_path() -> str:
    """A folder with pyx12's maps plus the two derived ones, registered in its maps.xml."""
    import pyx12.params

    installed = Path(pyx12.params.__file__).resolve().parent / "map"
    folder = Path(tempfile.mkdtemp(prefix="pyx12-maps-")) / "map"
    shutil.copytree(installed, folder)
    _derive(installed / "270.4010.X092.A1.xml", folder / "270.5010.X279.A1.xml", "005010X279A1")
    _derive(installed / "276.4010.X093.A1.xml", folder / "276.5010.X212.xml", "005010X212")
    index = (folder / "maps.xml").read_text(encoding="utf-8")
    anchor = '<map vriic="005010X231" fic="FA"'
    assert anchor in index
    index = index.replace(
        anchor,
        '<map vriic="005010X279A1" fic="HS" abbr="270">270.5010.X279.A1.xml</map>\n'
        '    <map vriic="005010X212" fic="HR" abbr="276">276.5010.X212.xml</map>\n    ' + anchor,
        1,
    )
    (folder / "maps.xml").write_text(index, encoding="utf-8")
    return str(folder)
