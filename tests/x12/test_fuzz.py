"""Property-based tests: the real samples, mutated (segments deleted, duplicated, swapped,
truncated; elements replaced with junk such as NaN, Infinity, 1E+400, huge digit strings or
nothing; separators changed consistently and inconsistently), make every reader return a result
or raise X12Error, nothing else; and what they return holds only finite amounts the columns can
hold. The number of examples comes from the Hypothesis profile (tests/x12/conftest.py)."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.x12.mutations import (
    JUNK,
    MUTATIONS,
    SEPARATOR_CHOICES,
    check_result,
    feed,
    mutate,
    sample_texts,
    split,
)
from x12.ack277ca import parse_277ca
from x12.ack999 import parse_999
from x12.claimstatus import parse_277
from x12.eligibility import parse_271
from x12.reader import X12Error
from x12.remit835 import parse_835

SAMPLES = sample_texts()
READERS = {
    "835": parse_835,
    "999": parse_999,
    "277CA": parse_277ca,
    "271": parse_271,
    "277": parse_277,
}

samples = st.sampled_from(SAMPLES)
junk_values = st.one_of(
    st.sampled_from(JUNK),
    st.text(max_size=30),
    st.from_regex(r"-?[0-9]{0,30}(\.[0-9]{0,30})?([eE][+-]?[0-9]{1,4})?", fullmatch=True),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.integers().map(str),
)


@settings()
@given(samples, st.randoms(use_true_random=False))
def test_mutated_samples_give_a_result_or_an_x12_error(chosen, rnd):
    kind, _, text = chosen
    feed(kind, mutate(rnd, text))


@settings()
@given(samples, st.sampled_from(sorted(MUTATIONS)), st.randoms(use_true_random=False))
def test_each_mutation_alone_gives_a_result_or_an_x12_error(chosen, name, rnd):
    kind, _, text = chosen
    parts = split(text)
    MUTATIONS[name](rnd, parts)
    feed(kind, parts.join())


@settings()
@given(samples, st.data())
def test_any_element_replaced_by_junk_gives_a_result_or_an_x12_error(chosen, data):
    kind, _, text = chosen
    parts = split(text)
    seg = data.draw(st.sampled_from(parts.segments))
    index = data.draw(st.integers(1, len(seg)))
    while len(seg) <= index:
        seg.append("")
    seg[index] = data.draw(junk_values)
    joined = parts.join()
    feed(kind, joined)
    feed(kind, joined.encode("utf-8"))


@settings()
@given(samples, st.permutations(SEPARATOR_CHOICES.replace("\n", "")))
def test_separators_changed_consistently_read_the_same(chosen, order):
    kind, _, text = chosen
    parts = split(text)
    used = {c for s in parts.segments for f in s for c in f} - {
        parts.component,
        parts.repetition,
    }
    free = [c for c in order if c not in used]
    if len(free) < 4 or not parts.component:
        return
    try:
        expected = READERS[kind](text, strict=False)
    except X12Error:
        return
    element, component, repetition, terminator = free[:4]
    old_component, old_repetition = parts.component, parts.repetition
    table = {old_component: component}
    if old_repetition:
        table[old_repetition] = repetition
    translate = str.maketrans(table)
    parts.segments = [
        [seg[0], *(f.translate(translate) for f in seg[1:])] if seg[0] != "ISA" else seg
        for seg in parts.segments
    ]
    isa = next(s for s in parts.segments if s[0] == "ISA")
    isa[16] = component
    if old_repetition:
        isa[11] = repetition
    parts.element, parts.terminator = element, terminator
    result = READERS[kind](parts.join(), strict=False)
    assert repr(_without_warnings(result)) == repr(_without_warnings(expected))
    check_result(result)


def _without_warnings(result):
    return [getattr(result, name) for name in ("remittances", "acknowledgments", "reports", "responses")
            if hasattr(result, name)]  # fmt: skip


@settings()
@given(st.binary(max_size=400), st.booleans(), samples)
def test_arbitrary_bytes_after_a_real_isa_give_a_result_or_an_x12_error(tail, keep_isa, chosen):
    kind, _, text = chosen
    start = text.index("ISA") if "ISA" in text else 0
    head = text[start : start + 106].encode("latin-1") if keep_isa else b""
    feed(kind, head + tail)


def test_the_fuzz_runner_finds_nothing_in_a_small_run():
    from tests.x12.fuzz import run

    crashes, per_kind, _ = run(300, seed=random.Random(7).randint(0, 10**6), save=None)
    assert not crashes, crashes
    assert set(per_kind) == {"835", "999", "277CA", "271", "277"}
