"""The segment writer's fast path (one separator check per segment) writes exactly the bytes of
the element-by-element path, and refuses the same values with the same messages."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from tests.x12 import claims_837i, claims_837p
from x12 import institutional as x12i
from x12 import professional as x12p
from x12.reader import Separators, X12Error
from x12.writer import SegmentWriter


class ElementByElementWriter(SegmentWriter):
    """The writer as it was before the fast path: every element checked on its own."""

    def segment(self, segment_id: str, *elements):  # type: ignore[no-untyped-def]
        return self._segment_by_element(segment_id, elements)


def _rich(cases) -> object:
    """One batch holding every golden case's claim (several claims: secondary with COB loops,
    replacement, void, child patients, supervising providers, facilities, many lines)."""
    batches = list(cases.values())
    submissions = [sub for batch in batches for sub in batch.submissions]
    return dataclasses.replace(batches[0], submissions=submissions)


WRITERS = [
    {},
    {"separators": Separators(element="|", component=">", repetition="!", segment="\x1c")},
    {"newline": True},
]


@pytest.mark.parametrize("options", WRITERS)
def test_837p_and_837i_batches_are_byte_identical_on_both_paths(options):
    for module, render, cases in (
        (claims_837p, x12p.render_837p, claims_837p.CASES),
        (claims_837i, x12i.render_837i, claims_837i.CASES),
    ):
        batch = _rich(cases)
        assert len(batch.submissions) == len(cases) >= 3
        envelope = module.envelope(999)
        fast = render(batch, envelope, SegmentWriter(**options))
        slow = render(batch, envelope, ElementByElementWriter(**options))
        assert fast == slow
        assert fast.count("CLM" + (options.get("separators") or Separators()).element) == len(cases)


@pytest.mark.parametrize(
    "elements",
    [
        ("IL", "1", "O*BRIEN", "SAM"),
        ("HC", ("HC", "90834", "9:5"), Decimal("150.00")),
        ("A", 3, None, ("X", None, "Y~Z")),
        ("A", ["ONE", "T*WO"]),
        ("A", "LINE\nBREAK"),
        ("A", "CARRIAGE\rRETURN"),
    ],
)
def test_a_separator_in_a_value_is_refused_with_the_same_message_on_both_paths(elements):
    with pytest.raises(X12Error) as fast:
        SegmentWriter().segment("NM1", *elements)
    with pytest.raises(X12Error) as slow:
        ElementByElementWriter().segment("NM1", *elements)
    assert fast.value.message == slow.value.message
    assert "which is an X12 separator" in fast.value.message


def test_repeats_numbers_and_empty_trailing_values_are_written_as_before():
    for elements in (
        ("A", ["ONE", "TWO"], None),
        ("A", 7, Decimal("12.50"), ("X", "", None), None, ""),
        ("A", ("", None), None),
        ("A",),
    ):
        assert SegmentWriter().segment("ZZ", *elements) == ElementByElementWriter().segment(
            "ZZ", *elements
        )
