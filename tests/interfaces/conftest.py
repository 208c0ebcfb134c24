"""The claims tests' practice (Riverbend, Blue Plan, Jane Doe in outpatient care with F33.1,
Lena Park LCSW) is the HL7 tests' world too."""

from __future__ import annotations

from tests.claims.conftest import practice

__all__ = ["practice"]
