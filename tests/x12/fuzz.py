"""X12 fuzz runner: mutate the real samples and feed every reader, counting crashes by place.

    python -m tests.x12.fuzz --files 20000 --seed 1        (or: make x12-fuzz)

A crash is any exception other than ``X12Error`` (and any amount or quantity in a result that is
not a finite decimal the columns can hold). Each crash place (exception type and the innermost
line of x12/ it came from) is printed with a count and the first mutated file that reached it,
saved under --save for replay. Exit status 1 when anything crashed.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import traceback
from collections import Counter
from pathlib import Path

from tests.x12.mutations import feed, mutate, sample_texts


def place_of(error: BaseException) -> str:
    frames = traceback.extract_tb(error.__traceback__)
    ours = [f for f in frames if "/x12/" in f.filename and "/tests/" not in f.filename]
    frame = (ours or frames)[-1]
    return f"{type(error).__name__} at {Path(frame.filename).name}:{frame.lineno} ({frame.name})"


def run(files: int, seed: int, save: Path | None) -> tuple[Counter[str], dict[str, int], float]:
    rnd = random.Random(seed)
    samples = sample_texts()
    crashes: Counter[str] = Counter()
    per_kind: Counter[str] = Counter()
    first: dict[str, str] = {}
    started = time.perf_counter()
    for n in range(files):
        kind, name, text = samples[n % len(samples)]
        mutated = mutate(rnd, text)
        data: str | bytes = mutated.encode("utf-8") if rnd.random() < 0.3 else mutated
        per_kind[kind] += 1
        try:
            feed(kind, data)
        except Exception as error:  # counting them is the point
            place = place_of(error)
            crashes[place] += 1
            if place not in first:
                first[place] = f"{kind} {name} #{n}: {error!r}"[:300]
                if save is not None:
                    save.mkdir(parents=True, exist_ok=True)
                    (save / f"crash-{len(first)}-{kind}.x12").write_text(mutated, "utf-8")
    elapsed = time.perf_counter() - started
    for place, count in crashes.most_common():
        print(f"{count:6d}  {place}\n        first: {first[place]}")
    return crashes, dict(per_kind), elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--save", type=Path, default=None, help="folder for crashing files")
    args = parser.parse_args(argv)
    crashes, per_kind, elapsed = run(args.files, args.seed, args.save)
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(per_kind.items()))
    print(
        f"{args.files} mutated files ({kinds}), seed {args.seed}: "
        f"{sum(crashes.values())} crashes in {len(crashes)} places, {elapsed:.1f} s"
    )
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())
