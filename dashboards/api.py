"""`/api/v1/kpis/`: the dashboard's figures as JSON, each with its formula."""

from __future__ import annotations

from typing import Any

from django.utils.decorators import method_decorator
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from dashboards.forms import DashboardFilterForm
from dashboards.rules import FORMULAS
from dashboards.selectors import dashboard_figures
from rcm.api_routing import SingleObjectSchema
from rcm.replica import reads_from_replica
from rcm.tenancy.http import request_today, scopes_of


def _number(value: Any) -> Any:
    return None if value is None else str(value)


class KpiViewSet(viewsets.ViewSet):
    """Dashboard figures for a period (`from`, `to`, default the last 90 days) and optional
    `payer`, `provider` and `level` filters. A rate with nothing to divide by is null.

    42 CFR Part 2: the figures are computed over the rows the key or member may see;
    `part2_hidden` gives, by figure, how many restricted records it left out (0 with the grant),
    the same number its drill-down page shows."""

    scope_area = "dashboards"
    schema = SingleObjectSchema()

    @extend_schema(
        parameters=[
            OpenApiParameter(name, str) for name in ("from", "to", "payer", "provider", "level")
        ],
        responses=inline_serializer(
            "Kpis",
            {
                "period": serializers.DictField(),
                "figures": serializers.DictField(),
                "breakdowns": serializers.DictField(),
                "formulas": serializers.DictField(),
                "part2_hidden": serializers.DictField(child=serializers.IntegerField()),
            },
        ),
    )
    @method_decorator(reads_from_replica)
    def list(self, request: Request) -> Response:
        params = request.query_params
        form = DashboardFilterForm(
            {
                "date_from": params.get("from", ""),
                "date_to": params.get("to", ""),
                "payer": params.get("payer", ""),
                "provider": params.get("provider", ""),
                "level": params.get("level", ""),
            }
        )
        if not form.is_valid():
            raise serializers.ValidationError(
                {
                    ("from" if k == "date_from" else "to" if k == "date_to" else k): v
                    for k, v in form.errors.items()
                }
            )
        today = request_today(request)
        d = dashboard_figures(
            filters=form.filters(today=today),
            today=today,
            scopes=scopes_of(request),
        )
        figures = {
            name: {"value": _number(value), "formula": name} for name, value in d.headline().items()
        }
        figures["authorizations_expiring_7d"] = {
            "value": d.authorizations_expiring,
            "formula": "authorizations_expiring_7d",
        }
        figures["authorizations_lapsed"] = {
            "value": d.authorizations_lapsed,
            "formula": "authorizations_lapsed",
        }
        figures["unbilled_per_diem_days"] = {
            "value": d.unbilled_days,
            "formula": "unbilled_per_diem_days",
        }
        breakdowns = {
            f"initial_denial_rate_by_{dim}": [
                {
                    "key": b.key,
                    "label": b.label,
                    "denied": b.numerator,
                    "adjudicated": b.denominator,
                    "rate": _number(b.rate),
                }
                for b in rows
            ]
            for dim, rows in (
                ("payer", d.denial_by_payer),
                ("provider", d.denial_by_provider),
                ("level", d.denial_by_level),
                ("month", d.denial_by_month),
                ("category", d.denial_by_category),
            )
        }
        breakdowns["ar_aging"] = [
            {bucket: str(v["insurance"] + v["patient"]) for bucket, v in d.ar_buckets.items()}
        ]
        breakdowns["cash_by_week"] = [
            {"week": w.isoformat(), "amount": str(a)} for w, a in d.cash_by_week
        ]
        return Response(
            {
                "period": {
                    "from": d.filters.date_from.isoformat(),
                    "to": d.filters.date_to.isoformat(),
                },
                "figures": figures,
                "breakdowns": breakdowns,
                "formulas": FORMULAS,
                "part2_hidden": {
                    **d.headline_hidden(),
                    "authorizations_expiring_7d": d.hidden.get("authorizations_expiring", 0),
                    "authorizations_lapsed": d.hidden.get("authorizations_lapsed", 0),
                    "unbilled_per_diem_days": d.hidden.get("unbilled_days", 0),
                },
            }
        )


def register(router: Any) -> None:
    router.register("kpis", KpiViewSet, basename="kpis")
