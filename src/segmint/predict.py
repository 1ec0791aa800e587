"""``segmint predict``: fit the buy-till-you-die models and store every customer's predictions.

Predict summarizes the counted orders as of a day (:mod:`segmint.models.summary`), fits BG/NBD
and Gamma-Gamma on that summary, scores every customer batch by batch, and in one transaction
replaces the ``predictions`` table and records the run in ``model_runs``. Then it refreshes,
so that the predictions are features (``predicted_clv_12m``, ``p_alive``, ...) rules can use
and the predictive library segments have their members.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pyarrow as pa

from segmint.errors import SegmintError
from segmint.models.checks import DataProfile, data_profile, thin_data_warnings
from segmint.models.runs import ModelRun, next_run_id, record_run
from segmint.models.scoring import (
    FittedModels,
    fit_models,
    score_batches,
    summary_batches,
)
from segmint.models.summary import customer_summary, latest_order_date
from segmint.refresh import RefreshResult, refresh
from segmint.store import Store


@dataclass(frozen=True)
class PredictResult:
    run_id: int
    as_of: date
    time_unit: str
    profile: DataProfile
    models: FittedModels
    warnings: list[str] = field(default_factory=list)
    refreshed: RefreshResult | None = None

    def as_dict(self) -> dict[str, Any]:
        spend = self.models.spend
        record: dict[str, Any] = {
            "run_id": self.run_id,
            "as_of": self.as_of,
            "time_unit": self.time_unit,
            "customers": self.profile.customers,
            "repeat_buyers": self.profile.repeat_buyers,
            "history_days": self.profile.history_days,
        }
        for model in (self.models.orders, spend):
            for name, value in model.params_.items():
                record[f"{model.NAME}.{name}"] = value
            record[f"{model.NAME}.log_likelihood"] = model.log_likelihood_
        record["spend_model_excluded_no_repeat"] = int(spend.excluded_no_repeat_)
        record["spend_model_excluded_nonpositive"] = int(spend.excluded_nonpositive_)
        record["population_mean_spend"] = spend.population_mean_spend()
        if self.refreshed is not None:
            record["refresh_id"] = self.refreshed.refresh_id
        record["warnings"] = len(self.warnings)
        return record


def predict(
    store: Store,
    as_of: date | None = None,
    time_unit: str = "week",
    monthly_discount: float = 0.01,
    then_refresh: bool = True,
) -> PredictResult:
    """Fit on counted orders up to ``as_of`` (default: the latest order day), store every
    customer's predictions, record the run and (``then_refresh``) refresh the features."""
    orders, refunds = store.table("orders"), store.table("refunds")
    as_of = as_of or latest_order_date(orders)
    run = ModelRun(kind="predict", as_of=as_of, calibration_end=as_of, time_unit=time_unit)
    summary = customer_summary(orders, refunds, as_of, time_unit)
    staged = store.stage("_model_summary", summary)
    profile = data_profile(staged, as_of)
    if profile.customers == 0:
        raise SegmintError(f"no customer has a counted order up to {as_of}: nothing to fit")
    models = fit_models(staged, time_unit, monthly_discount)
    run.models = {m.NAME: m.to_dict() for m in (models.orders, models.spend)}
    run.data_summary = profile.to_dict() | {"monthly_discount": monthly_discount}
    run.warnings = thin_data_warnings(profile) + model_warnings(models)
    run_id = next_run_id(store)
    with store.transaction():
        store.delete_all("predictions")
        for batch in score_batches(summary_batches(staged), models, as_of):
            store.insert("predictions", _with_run(batch, run_id, as_of))
        record_run(store, run, run_id)
    store.con.drop_table("_model_summary", force=True)
    refreshed = refresh(store, as_of) if then_refresh else None
    return PredictResult(run_id, as_of, time_unit, profile, models, run.warnings, refreshed)


def model_warnings(models: FittedModels) -> list[str]:
    """What the fitted models themselves say about the predictions' reliability."""
    warnings = []
    for model in (models.orders, models.spend):
        if not model.converged_:
            warnings.append(
                f"the {model.NAME} fit did not fully converge: treat its predictions as rough"
            )
    if not models.spend.has_finite_mean:
        warnings.append(
            f"the spend model has q = {models.spend.params_['q']:.3g} <= 1: spend per order is "
            "so dispersed that its population mean is infinite, so customers without repeat "
            "orders get no predicted spend or CLV"
        )
    return warnings


def _with_run(batch: pa.RecordBatch, run_id: int, as_of: date) -> pa.Table:
    table = pa.Table.from_batches([batch])
    table = table.append_column("run_id", pa.array([run_id] * len(table), pa.int64()))
    return table.append_column("as_of", pa.array([as_of] * len(table), pa.date32()))
