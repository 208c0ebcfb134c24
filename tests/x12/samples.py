"""Finding the X12 sample files: the copies in tests/x12/samples first, then shared/.

shared/ sits beside the repository (CI clones the repo with shared/ next to it), so it is found
by walking up from the repository root; PARITY_SHARED_DIR overrides that. A test whose file is
in neither place is skipped with the reason.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
LOCAL = HERE / "samples"
REPO = HERE.parents[1]


def shared_samples_dir() -> Path | None:
    candidates = []
    if os.environ.get("PARITY_SHARED_DIR"):
        candidates.append(Path(os.environ["PARITY_SHARED_DIR"]) / "x12-samples")
    candidates += [parent / "shared" / "x12-samples" for parent in (REPO, *REPO.parents)]
    return next((c for c in candidates if c.is_dir()), None)


def sample_path(relative: str) -> Path:
    local = LOCAL / relative
    if local.is_file():
        return local
    shared = shared_samples_dir()
    if shared is None:
        pytest.skip(
            f"X12 sample {relative} is not copied into tests/x12/samples and shared/x12-samples "
            "was not found (set PARITY_SHARED_DIR to the shared/ folder)"
        )
    path = shared / relative
    if not path.is_file():
        pytest.skip(f"X12 sample {relative} is missing from {shared}")
    return path


def sample(relative: str) -> bytes:
    return sample_path(relative).read_bytes()
