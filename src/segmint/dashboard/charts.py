"""Plotly figures as plain dicts (``data`` and ``layout``), drawn in the page by the bundled
Plotly: builders for the shapes the dashboard uses."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

Figure = dict[str, Any]
PALETTE = ("#0b5cad", "#d1495b", "#2e8540", "#edae49", "#6a4c93", "#00798c", "#8d6a00")


def lines(
    x: Sequence[Any],
    series: dict[str, Sequence[Any]],
    y_title: str = "",
    percent: bool = False,
) -> Figure:
    """One line per series over a shared x (dates or labels)."""
    data = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": name,
            "x": list(x),
            "y": list(values),
            "line": {"color": PALETTE[i % len(PALETTE)]},
        }
        for i, (name, values) in enumerate(series.items())
    ]
    axis: dict[str, Any] = {"title": {"text": y_title}, "rangemode": "tozero"}
    if percent:
        axis["tickformat"] = ".0%"
    return {"data": data, "layout": {"yaxis": axis, "legend": {"orientation": "h"}}}


def bars(
    x: Sequence[Any], y: Sequence[Any], name: str, y_title: str = "", color: str = PALETTE[0]
) -> Figure:
    """Vertical bars."""
    return {
        "data": [
            {"type": "bar", "name": name, "x": list(x), "y": list(y), "marker": {"color": color}}
        ],
        "layout": {"yaxis": {"title": {"text": y_title}}, "showlegend": False},
    }


def sparkline(x: Sequence[Any], y: Sequence[Any]) -> Figure:
    """A tiny line without axes (a size history in a table cell)."""
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "lines",
                "x": list(x),
                "y": list(y),
                "line": {"color": PALETTE[0], "width": 1.5},
                "hoverinfo": "x+y",
            }
        ],
        "layout": {
            "margin": {"t": 2, "r": 2, "b": 2, "l": 2},
            "xaxis": {"visible": False},
            "yaxis": {"visible": False, "rangemode": "tozero"},
            "showlegend": False,
            "height": 36,
            "width": 140,
        },
        "config": {"staticPlot": True},
    }
