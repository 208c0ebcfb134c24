"""The 42 CFR Part 2 access layer knows every model that reaches Part 2 data, and fails closed."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import models
from django.test.utils import isolate_apps

from claims.models import Claim
from rcm import part2

pytestmark = pytest.mark.django_db

NO_GRANT = frozenset({"claims:read", "patients:read"})
GRANT = NO_GRANT | {"part2:read"}


def _models_reaching_part2() -> list[str]:
    return sorted(m._meta.label for m in apps.get_models() if part2.reaches_part2(m))


def test_every_model_with_a_path_to_an_episode_or_a_claim_has_a_rule() -> None:
    unknown = [
        label
        for label in _models_reaching_part2()
        if label not in part2.RULES and label not in part2.NOT_PART2
    ]
    assert unknown == [], (
        f"name these in rcm/part2.py RULES (or NOT_PART2 with a reason): {unknown}"
    )


def test_every_rule_names_an_installed_model_and_a_working_lookup() -> None:
    for label, rule in part2.RULES.items():
        model = apps.get_model(label)
        # The lookup compiles (a typo in a path fails here, not on a member's page).
        str(model._base_manager.filter(rule.q()).query)


def test_the_episode_rule_uses_the_programs_patients_calls_part2() -> None:
    from patients.models import PART2_PROGRAMS

    assert set(PART2_PROGRAMS) == part2.PROGRAM_TYPES


@isolate_apps("claims")
def test_a_model_reaching_part2_without_a_rule_is_hidden_whole_without_the_grant() -> None:
    class Unknown(models.Model):  # noqa: DJ008
        """A model the layer has no rule for, with a foreign key to a claim."""

        claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="+")

        class Meta:
            app_label = "claims"

    part2.reaches_part2.cache_clear()
    qs = Unknown._base_manager.all()
    assert part2.reaches_part2(Unknown)
    assert part2.visible(qs, NO_GRANT).query.is_empty()
    assert part2.hidden_count(qs, GRANT) == 0
    assert part2.visible(qs, GRANT) is qs
    assert part2.is_part2(Unknown(claim_id=None))


def test_every_model_that_carries_a_part2_flag_has_a_rule() -> None:
    """Rows that name their subject by id (alerts, audit events) have no foreign-key path for the
    walk to find: their own `part2` flag must be a rule, or the flag would be written and never
    read."""
    flagged = sorted(
        m._meta.label
        for m in apps.get_models()
        if any(f.name == "part2" and isinstance(f, models.BooleanField) for f in m._meta.fields)
    )
    assert flagged, "no model carries a part2 flag: the walk below would prove nothing"
    assert [label for label in flagged if label not in part2.RULES] == []
