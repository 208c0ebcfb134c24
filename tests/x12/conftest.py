"""Hypothesis profiles for the X12 property-based tests (tests/x12/test_fuzz.py).

``HYPOTHESIS_PROFILE=ci`` (the default) keeps each property to 200 examples so the suite stays
fast; ``nightly`` runs 20,000 per property. ``python -m tests.x12.fuzz`` is the big run.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_COMMON = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
    "derandomize": False,
}
settings.register_profile("ci", max_examples=200, **_COMMON)
settings.register_profile("nightly", max_examples=20_000, **_COMMON)
settings.register_profile("dev", max_examples=50, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
