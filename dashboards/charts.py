"""Server-rendered SVG bar charts (no JavaScript, printable); every chart also has a table."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from dashboards.rules import bar_heights

HEIGHT = 120
BAR = 28
GAP = 12


def bars(points: list[tuple[str, Decimal | int | None]], *, unit: str = "") -> dict[str, Any]:
    """Bars for (label, value) points: x, y, height, label and the value as text."""
    heights = bar_heights([v for _, v in points], height=HEIGHT)
    items = []
    for index, ((label, value), height) in enumerate(zip(points, heights, strict=True)):
        shown = (
            "no data"
            if value is None
            else (f"{value}%" if unit == "%" else f"${value:,.2f}" if unit == "$" else str(value))
        )
        items.append(
            {
                "x": GAP + index * (BAR + GAP),
                "y": HEIGHT - height + 10,
                "height": height,
                "width": BAR,
                "label": label,
                "value": shown,
            }
        )
    return {
        "items": items,
        "width": GAP + len(points) * (BAR + GAP),
        "height": HEIGHT + 40,
        "empty": not any(heights),
    }
