"""Models (``/models``): how the models held up, from the ``model_runs`` table: the CLV
holdout calibration and the churn model's lift over the P(alive) baseline (the latest
``segmint validate-model``), the fitted CLV models (``segmint predict``) and the behavioural
cluster profiles (``segmint cluster``)."""

from __future__ import annotations

import math
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse

from segmint.dashboard import charts
from segmint.dashboard.session import Session
from segmint.dashboard.web import TWIN_PREFIX, cached_view, render, signed_in, twin, twin_key
from segmint.models.churn import MODEL_SCORE, NO_ORDER_SCORE, P_ALIVE_SCORE
from segmint.models.clusters import NAME as CLUSTER_MODEL
from segmint.models.clusters import PROFILED
from segmint.models.runs import latest_run
from segmint.segments import latest_versions
from segmint.segments.clusters import cluster_segments
from segmint.store import Store

router = APIRouter()
TWIN = f"{TWIN_PREFIX}/models"
#: Each kind of run, the command that records it and what it gives this page.
RUNS = (
    ("validation", "segmint validate-model", "the holdout calibration and the churn backtest"),
    ("predict", "segmint predict", "the fitted CLV models"),
    ("clusters", "segmint cluster", "the behavioural cluster profiles"),
)
SCORES = {
    MODEL_SCORE: "Churn model (gradient boosting)",
    P_ALIVE_SCORE: "Baseline: 1 − P(alive) (BG/NBD)",
    NO_ORDER_SCORE: "BG/NBD P(no order in the horizon)",
}
FEATURES = {
    "number_of_orders": "Orders",
    "days_since_last_order": "Days since last order",
    "aov": "Average order value",
    "tenure_days": "Tenure (days)",
    "mean_days_between_orders": "Days between orders",
    "discount_order_share": "Orders with a discount",
    "distinct_categories": "Categories bought",
    "main_channel_share": "Buys in the main channel",
    "email_open_rate_90d": "Email open rate (90 days)",
}
#: Heatmap colours span this many doublings either side of the store average.
DOUBLINGS = 2


def models_view(store: Store) -> dict[str, Any]:
    """The latest run of each kind, as this page shows it, and the commands for those
    missing."""
    runs = {kind: latest_run(store, kind) for kind, _, _ in RUNS}
    return {
        "validation": _validation(runs["validation"]) if runs["validation"] else None,
        "predict": _predict(runs["predict"]) if runs["predict"] else None,
        "clusters": _clusters(store, runs["clusters"]) if runs["clusters"] else None,
        "missing": [
            {"run": kind, "command": command, "gives": gives}
            for kind, command, gives in RUNS
            if runs[kind] is None
        ],
    }


def _run_facts(run: dict[str, Any]) -> dict[str, Any]:
    keys = ("run_id", "as_of", "calibration_end", "holdout_end", "time_unit", "finished_at")
    return {k: run[k] for k in keys}


def _validation(run: dict[str, Any]) -> dict[str, Any]:
    """Holdout totals, the calibration by decile of predicted orders, the next-order dates
    and the churn backtest of a validation run."""
    metrics, summary = run["metrics"] or {}, run["data_summary"] or {}
    holdout = [
        {"model": model, "quantity": quantity, **metrics[f"{model}_{quantity}"]}
        for model in ("bg_nbd", "pareto_nbd")
        for quantity in ("orders", "spend")
        if metrics.get(f"{model}_{quantity}")
    ]
    return {
        **_run_facts(run),
        "holdout_days": summary.get("holdout_days"),
        "customers": summary.get("customers"),
        "holdout": holdout,
        "calibration": run["calibration"] or [],
        "next_order": metrics.get("next_order"),
        "churn": _churn(metrics["churn"]) if metrics.get("churn") else None,
        "warnings": run["warnings"] or [],
    }


def _churn(churn: dict[str, Any]) -> dict[str, Any]:
    """The backtest's scores, the model and its P(alive) baseline side by side."""
    scores = [{**s, "label": SCORES.get(s["score"], s["score"])} for s in churn["scores"]]
    by_score = {s["score"]: s for s in scores}
    return {
        "horizon_days": churn["horizon_days"],
        "train": churn["train"],
        "evaluate": churn["evaluate"],
        "scores": scores,
        "model": by_score.get(MODEL_SCORE),
        "baseline": by_score.get(P_ALIVE_SCORE),
    }


def _predict(run: dict[str, Any]) -> dict[str, Any]:
    """The fitted models of the latest prediction run: parameters, fit and data."""
    models = [
        {
            "model": name,
            "params": fitted.get("params", {}),
            "log_likelihood": fitted.get("log_likelihood"),
            "customers": fitted.get("customers"),
            "converged": fitted.get("converged"),
        }
        for name, fitted in (run["models"] or {}).items()
    ]
    return {
        **_run_facts(run),
        "models": models,
        "data_summary": run["data_summary"] or {},
        "warnings": run["warnings"] or [],
    }


def _clusters(store: Store, run: dict[str, Any]) -> dict[str, Any]:
    """The clustering run's profiles: size, revenue share and feature means against the
    store average, with the cluster's segment when the latest refresh has it."""
    model = run["models"][CLUSTER_MODEL]
    live = set(store.run(latest_versions(store).select("segment")).column("segment").to_pylist())
    slugs = {
        c["id"]: s.slug
        for c, s in zip(model["clusters"], cluster_segments(store), strict=True)
        if s.slug in live
    }
    profiles = model.get("profiles") or []
    return {
        **_run_facts(run),
        "k": model["k"],
        "clustered": model.get("customers"),
        "silhouettes": [
            {"k": int(k), "silhouette": v}
            for k, v in sorted(model.get("silhouettes", {}).items(), key=lambda i: int(i[0]))
        ],
        "store_average": {f: _store_average(profiles, f) for f in PROFILED},
        "profiles": [_profile(p, slugs.get(p["id"])) for p in profiles],
    }


def _profile(profile: dict[str, Any], segment: str | None) -> dict[str, Any]:
    keys = (
        "id",
        "name",
        "customers",
        "customer_share",
        "net_sales",
        "revenue_share",
        "repeat_share",
        "median_days_between_orders",
        "top_channel",
    )
    return {
        **{k: profile.get(k) for k in keys},
        "segment": segment,
        "means": {f: profile.get(f) for f in PROFILED},
        "vs_store": {f: profile.get(f"{f}_vs_store") for f in PROFILED},
    }


def _store_average(profiles: list[dict[str, Any]], feature: str) -> float | None:
    """The store's mean of ``feature``: any cluster's mean over its ratio to it."""
    for p in profiles:
        mean, ratio = p.get(feature), p.get(f"{feature}_vs_store")
        if mean is not None and ratio:
            return mean / ratio
    return None


# -- figures --------------------------------------------------------------------------------
def figures(view: dict[str, Any]) -> dict[str, charts.Figure]:
    found: dict[str, charts.Figure] = {}
    validation, clusters = view["validation"], view["clusters"]
    if validation and validation["calibration"]:
        found["orders"] = _calibration(validation["calibration"], "orders", "Orders per customer")
        found["spend"] = _calibration(validation["calibration"], "spend", "Spend per customer")
    if validation and validation["churn"]:
        scores = validation["churn"]["scores"]
        found["churn"] = grouped_bars(
            [s["label"] for s in scores],
            {
                "ROC AUC": [s["roc_auc"] for s in scores],
                "Precision in the top 10%": [s["precision_top_decile"] for s in scores],
                "Lift in the top 10%": [s["lift_top_decile"] for s in scores],
            },
        )
    if clusters and clusters["profiles"]:
        profiles = clusters["profiles"]
        found["profiles"] = profile_heatmap(profiles)
        found["sizes"] = grouped_bars(
            [p["name"] for p in profiles],
            {
                "Share of customers with orders": [p["customer_share"] for p in profiles],
                "Share of revenue": [p["revenue_share"] for p in profiles],
            },
            percent=True,
            keys=[p["segment"] for p in profiles],
            horizontal=True,
        )
    return found


def _calibration(rows: list[dict[str, Any]], quantity: str, title: str) -> charts.Figure:
    """Predicted against actual means per decile of predicted orders."""
    figure = charts.lines(
        [r["decile"] for r in rows],
        {
            "Predicted": [r[f"predicted_{quantity}"] for r in rows],
            "Actual": [r[f"actual_{quantity}"] for r in rows],
        },
        y_title=title,
    )
    figure["layout"]["xaxis"] = {
        "title": {"text": "Decile of predicted orders (10: highest)"},
        "dtick": 1,
    }
    return figure


def grouped_bars(
    labels: list[Any],
    series: dict[str, list[Any]],
    percent: bool = False,
    keys: list[str | None] | None = None,
    horizontal: bool = False,
) -> charts.Figure:
    """Side-by-side bars, one colour per series (``horizontal``: labels down the side, first
    at the top); ``keys`` make a click on a label's bars open that segment."""
    label_axis, value_axis = ("y", "x") if horizontal else ("x", "y")
    data = [
        {
            "type": "bar",
            "name": name,
            "orientation": "h" if horizontal else "v",
            label_axis: list(labels),
            value_axis: list(values),
            "marker": {"color": charts.PALETTE[i % len(charts.PALETTE)]},
            **({"customdata": keys} if keys else {}),
        }
        for i, (name, values) in enumerate(series.items())
    ]
    axis: dict[str, Any] = {"rangemode": "tozero"}
    if percent:
        axis["tickformat"] = ".0%"
    layout: dict[str, Any] = {
        "barmode": "group",
        f"{value_axis}axis": axis,
        "legend": {"orientation": "h"},
    }
    if horizontal:
        layout[f"{label_axis}axis"] = {"autorange": "reversed", "automargin": True}
    figure: charts.Figure = {"data": data, "layout": layout}
    if keys:
        figure["links"] = {k: f"/segments/{k}" for k in keys if k}
    return figure


def profile_heatmap(profiles: list[dict[str, Any]]) -> charts.Figure:
    """Clusters by feature, coloured by the cluster mean's ratio to the store average (on a
    log scale: as many shades above as below); a click opens the cluster's segment."""
    features = list(PROFILED)
    z, text = [], []
    for p in profiles:
        z.append([_doublings(p["vs_store"][f]) for f in features])
        text.append([_cell_text(p["means"][f], p["vs_store"][f]) for f in features])
    ticks = list(range(-DOUBLINGS, DOUBLINGS + 1))
    return {
        "data": [
            {
                "type": "heatmap",
                "x": [FEATURES.get(f, f) for f in features],
                "y": [p["name"] for p in profiles],
                "z": z,
                "text": text,
                "customdata": [[p["segment"] or ""] * len(features) for p in profiles],
                "zmin": -DOUBLINGS,
                "zmax": DOUBLINGS,
                "zmid": 0,
                "colorscale": "RdBu",  # Plotly's runs from blue (low) to red (high)
                "colorbar": {
                    "title": {"text": "vs store"},
                    "tickvals": ticks,
                    "ticktext": [f"{2.0**t:g}×" for t in ticks],
                },
                "hovertemplate": "%{y}<br>%{x}: %{text}<extra></extra>",
            }
        ],
        "layout": {
            "height": 160 + 48 * len(profiles),
            "yaxis": {"autorange": "reversed", "automargin": True},
            "xaxis": {"automargin": True},
        },
        "links": {p["segment"]: f"/segments/{p['segment']}" for p in profiles if p["segment"]},
    }


def _doublings(ratio: float | None) -> float | None:
    if ratio is None or not ratio > 0 or not math.isfinite(ratio):
        return None
    return max(-DOUBLINGS, min(DOUBLINGS, math.log2(ratio)))


def _cell_text(mean: float | None, ratio: float | None) -> str:
    if mean is None:
        return "–"
    return f"{mean:,.2f} ({ratio:.2f}× the store)" if ratio is not None else f"{mean:,.2f}"


# -- routes ---------------------------------------------------------------------------------
@router.get("/models", include_in_schema=False)
def models_page(request: Request, session: Session = Depends(signed_in)) -> HTMLResponse:
    view = cached_view(request, models_view)
    return render(
        request,
        "models.html",
        session,
        view,
        TWIN,
        "Models",
        figures=figures(view),
        features=FEATURES,
    )


@router.get(TWIN, dependencies=[twin_key], tags=["views"], summary="The models page's data")
def models_twin(request: Request) -> JSONResponse:
    return twin(cached_view(request, models_view))
