"""Campaigns (``/campaigns``): every A/B test with its arms, each metric against the control
with its lift and 95% interval, the p-value and the verdict, and what to know before reading
them: the sample ratio check and whether the window is still open (``segmint campaign
report``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse

from segmint.campaigns.registry import list_campaigns
from segmint.campaigns.report import Report, campaign_report
from segmint.dashboard import charts
from segmint.dashboard.session import Session
from segmint.dashboard.web import TWIN_PREFIX, cached_view, render, signed_in, twin, twin_key
from segmint.segments import latest_versions
from segmint.store import Store

router = APIRouter()
TWIN = f"{TWIN_PREFIX}/campaigns"
#: The metrics shown as rates (their lifts in percentage points) and their labels.
RATES = ("conversion_rate", "unsubscribe_rate")
METRICS = {
    "conversion_rate": "Conversion rate",
    "revenue_per_recipient": "Revenue per recipient",
    "aov": "Average order value",
    "unsubscribe_rate": "Unsubscribe rate",
}


def campaigns_view(store: Store) -> dict[str, Any]:
    """Every campaign's report, newest first."""
    versions = store.run(latest_versions(store).select("segment", "name")).to_pylist()
    names = {v["segment"]: v["name"] for v in versions}
    listed = sorted(list_campaigns(store), key=lambda c: -c["campaign_id"])
    return {"campaigns": [_campaign(campaign_report(store, c["name"]), names) for c in listed]}


def _campaign(report: Report, names: dict[str, str]) -> dict[str, Any]:
    campaign, ratio = report.campaign, report.sample_ratio
    shares = campaign.arms.bucket_shares()
    return {
        "campaign_id": campaign.campaign_id,
        "name": campaign.name,
        "segment": campaign.segment,
        "segment_name": names.get(campaign.segment),
        "channel": campaign.channel,
        "send_date": campaign.send_date,
        "window_days": campaign.window_days,
        "window": {"first": report.span.first, "last": report.span.last},
        "eligible": campaign.eligible,
        "control": campaign.control,
        "data_through": report.data_through,
        "window_ended": report.window_ended,
        "window_note": _window_note(report),
        "sample_ratio": {
            "p_value": ratio.p_value,
            "mismatch": ratio.mismatch,
            "message": ratio.message,
        },
        "notes": report.notes(),
        "arms": [
            {
                "arm": arm,
                "recipients": ratio.observed[arm],
                "planned_share": shares[arm],
                "expected": ratio.expected[arm],
                "is_control": arm == campaign.control,
            }
            for arm in campaign.arms.names
        ],
        "results": report.rows,
    }


def _window_note(report: Report) -> str:
    span, through = report.span, report.data_through
    if report.window_ended:
        return f"The window ran from {span.first} to {span.last}; the data reaches {through}."
    return (
        f"The window runs from {span.first} to {span.last} and the data reaches "
        f"{through or 'no day yet'}: the results are incomplete and no winner is called."
    )


# -- the interval chart ---------------------------------------------------------------------
def interval_chart(campaign: dict[str, Any]) -> charts.Figure:
    """Each variant's absolute lift over the control with its 95% interval, one panel per
    metric (rates in percentage points); the zero line is no difference."""
    rows = [r for r in campaign["results"] if r["ci_low"] is not None]
    metrics = [m for m in METRICS if any(r["metric"] == m for r in rows)]
    data, layout = [], {"showlegend": False, "height": 80 + 140 * len(metrics)}
    for i, metric in enumerate(metrics):
        suffix = "" if i == 0 else str(i + 1)
        mine = [r for r in rows if r["metric"] == metric]
        scale = 100.0 if metric in RATES else 1.0
        lifts = [r["absolute_lift"] * scale for r in mine]
        lows = [r["ci_low"] * scale for r in mine]
        highs = [r["ci_high"] * scale for r in mine]
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": METRICS[metric],
                "x": lifts,
                "y": [f"{r['arm']} vs {campaign['control']}" for r in mine],
                "xaxis": f"x{suffix}",
                "yaxis": f"y{suffix}",
                "marker": {"size": 11, "color": charts.PALETTE[i % len(charts.PALETTE)]},
                "error_x": {
                    "type": "data",
                    "symmetric": False,
                    "array": [h - v for h, v in zip(highs, lifts, strict=True)],
                    "arrayminus": [v - lo for v, lo in zip(lifts, lows, strict=True)],
                    "thickness": 2,
                    "width": 8,
                },
                "text": [lift_text(metric, r) for r in mine],
                "hovertemplate": "%{y}: %{text}<extra></extra>",
            }
        )
        unit = "percentage points" if metric in RATES else "per recipient"
        layout[f"xaxis{suffix}"] = {
            "title": {"text": f"{METRICS[metric]}: lift ({unit})"},
            "anchor": f"y{suffix}",
            "range": _range(lows + highs),
            "zeroline": True,
            "zerolinewidth": 2,
            "zerolinecolor": "#566070",
        }
        layout[f"yaxis{suffix}"] = {
            "domain": _panel(i, len(metrics)),
            "anchor": f"x{suffix}",
            "automargin": True,
        }
    return {"data": data, "layout": layout}


def _panel(i: int, panels: int, gap: float = 0.5) -> list[float]:
    """The vertical share of panel ``i`` (0: top) of ``panels``, with gaps between."""
    low, high = (panels - 1 - i) / panels, (panels - i) / panels
    margin = gap / panels / 2
    return [low + (margin if i < panels - 1 else 0.0), high - (margin if i > 0 else 0.0)]


def _range(values: list[float]) -> list[float]:
    """Around ``values`` and zero, with a margin."""
    low, high = min([*values, 0.0]), max([*values, 0.0])
    pad = (high - low) * 0.1 or 1.0
    return [low - pad, high + pad]


def value_text(metric: str, value: float | None) -> str:
    """A metric's value: rates as percentages, money with two decimals."""
    if value is None:
        return "–"
    return f"{value * 100:.1f}%" if metric in RATES else f"{value:,.2f}"


def lift_text(metric: str, row: dict[str, Any]) -> str:
    """``+6.0 points (95% CI -1.5 to +13.1)`` or ``+0.74 (95% CI -33.80 to +23.01)``."""
    if row["absolute_lift"] is None:
        return "–"
    scale, digits, unit = (100.0, 1, " points") if metric in RATES else (1.0, 2, "")
    lift, low, high = (row[k] * scale for k in ("absolute_lift", "ci_low", "ci_high"))
    return f"{lift:+.{digits}f}{unit} (95% CI {low:+.{digits}f} to {high:+.{digits}f})"


def p_text(value: float | None) -> str:
    if value is None:
        return "–"
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


# -- routes ---------------------------------------------------------------------------------
@router.get("/campaigns", include_in_schema=False)
def campaigns_page(request: Request, session: Session = Depends(signed_in)) -> HTMLResponse:
    view = cached_view(request, campaigns_view)
    figures = {c["campaign_id"]: interval_chart(c) for c in view["campaigns"]}
    return render(
        request,
        "campaigns.html",
        session,
        view,
        TWIN,
        "Campaigns",
        figures=figures,
        metrics=METRICS,
        value_text=value_text,
        lift_text=lift_text,
        p_text=p_text,
    )


@router.get(TWIN, dependencies=[twin_key], tags=["views"], summary="The campaigns page's data")
def campaigns_twin(request: Request) -> JSONResponse:
    return twin(cached_view(request, campaigns_view))
