"""What other apps tell this one about the services they record against authorizations.

The authorizations app sits below claims and never imports it. Usage rows the claims app records
carry `source="claim"` and the charge's id; when this app counts such rows again (an
authorization approved after the services) it needs the charges' current units, which only the
claims app knows. The claims app registers that lookup in ClaimsConfig.ready()."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence

# Ids of the charges behind usage rows -> {str(id): units} for those not voided (one query).
SourceUnits = Callable[[Sequence[uuid.UUID]], dict[str, int]]
_SOURCE_UNITS: dict[str, SourceUnits] = {}


def register_source_units(source: str, lookup: SourceUnits) -> None:
    """Called by the app that records usage rows of `source` (a UsageSource value)."""
    _SOURCE_UNITS[source] = lookup


def source_units(source: str, ids: Sequence[uuid.UUID]) -> dict[str, int]:
    """The live units of the records behind usage rows of `source`; fails loudly when no app
    registered the source, rather than counting every row as voided."""
    lookup = _SOURCE_UNITS.get(source)
    if lookup is None:
        raise LookupError(f"No installed app registered the units of {source!r} usage rows.")
    return lookup(ids)
