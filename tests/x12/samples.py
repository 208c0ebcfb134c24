"""The public X12 sample files the tests read, copied into tests/x12/samples/.

SOURCES.md there names the repository, path, commit and licence of each file; LICENSES.md holds
the licence notices. Tests never read anything outside the repository, so a missing sample is an
error of ours, not a reason to skip.
"""

from __future__ import annotations

from pathlib import Path

SAMPLES = Path(__file__).resolve().parent / "samples"


def sample_path(relative: str) -> Path:
    path = SAMPLES / relative
    if not path.is_file():
        raise FileNotFoundError(f"X12 sample {relative} is not in {SAMPLES} (see SOURCES.md)")
    return path


def sample(relative: str) -> bytes:
    return sample_path(relative).read_bytes()


def all_samples() -> list[Path]:
    """Every sample file (not the notes beside them), in a stable order."""
    return [p for p in sorted(SAMPLES.rglob("*")) if p.is_file() and p.suffix != ".md"]
