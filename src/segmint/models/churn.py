"""Churn propensity: a gradient-boosting classifier of "no counted order in the next 90 days",
backtested against BG/NBD's probability of being alive.

**Label.** A customer is in the population as of a day ``d`` when they have at least one
counted order (:func:`segmint.definitions.counted_orders`: placed, not cancelled or voided)
with ``placed_date <= d``. They *churned* when they have no counted order with ``placed_date``
(a local day) in ``(d, d + horizon]``: an order on ``d + 1`` or on ``d + horizon`` counts.

**Features.** The catalog features (:data:`segmint.features.CATALOG`) of types integer,
number, money and boolean computed as of ``d`` (so nothing after ``d`` is seen), except the
*Predictions* group (BG/NBD's own outputs, the baseline) and those no training customer has,
plus the low-cardinality strings of :data:`CATEGORICAL` as categories. Missing values stay
missing: the classifier handles them.

**Backtest.** With ``end`` the latest counted order day and ``h`` the horizon, the model is
trained on features as of ``end - 2h`` with labels in ``(end - 2h, end - h]`` and evaluated on
features as of ``end - h`` with labels in ``(end - h, end]``: the two label windows do not
overlap, and training sees no order of the evaluation window. The baselines are BG/NBD fitted
(in weeks) on the summary as of ``end - h``: ``1 - p_alive``, and the probability of no order
in the next ``h`` days (which estimates the label itself).

**Metrics** on the evaluation population: ROC AUC; precision at the top decile, the share of
churners among the ``ceil(n / 10)`` customers with the highest churn score (customers tied at
the cut count in proportion, i.e. the expected precision when ties are broken at random); lift
at the top decile, that precision over the base churn rate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Self

import ibis.expr.types as ir

from segmint.definitions import counted_orders
from segmint.errors import SegmintError
from segmint.features import CATALOG, compute_features
from segmint.features.tables import Tables
from segmint.models.base import json_number
from segmint.models.summary import customer_summary, latest_order_date
from segmint.store import Store

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    from sklearn.ensemble import HistGradientBoostingClassifier

#: Days after the as-of day in which a customer must order not to count as churned.
HORIZON_DAYS = 90
#: Catalog feature types the model reads as numbers (booleans as 0/1).
NUMERIC_TYPES = frozenset({"integer", "number", "money", "boolean"})
#: Catalog groups left out: BG/NBD's predictions are the baseline, not an input.
EXCLUDED_GROUPS = frozenset({"Predictions"})
#: String features the model reads as categories (the most frequent :data:`MAX_CATEGORIES`).
CATEGORICAL = ("preferred_channel", "preferred_device")
MAX_CATEGORIES = 20
#: Share of the evaluation population in the "top decile".
TOP_SHARE = 0.1
#: The classifier's settings: shallow trees, a fixed number of slow steps (chosen by 5-fold
#: cross-validated AUC on the training windows of the demo store and UCI Online Retail).
#: Leaves hold at least 1/20 of the rows, between :data:`MIN_LEAF` customers.
CLASSIFIER: dict[str, Any] = {
    "learning_rate": 0.05,
    "max_iter": 200,
    "max_depth": 3,
    "l2_regularization": 1.0,
    "early_stopping": False,
    "categorical_features": "from_dtype",
}
#: Rows below which the classifier runs on one thread: on small data OpenMP's threads cost
#: more than they save, up to 20 times more on a busy 2-core machine (measured here).
SINGLE_THREAD_ROWS = 100_000
MIN_LEAF = (5, 50)


# -- labels and frames ------------------------------------------------------------------------
def churn_labels(orders: ir.Table, as_of: date, horizon_days: int = HORIZON_DAYS) -> ir.Table:
    """``customer_id, churned`` for every customer with a counted order on or before
    ``as_of``: churned when no counted order has ``placed_date`` in
    ``(as_of, as_of + horizon_days]``."""
    last_day = as_of + timedelta(days=horizon_days)
    counted = counted_orders(orders, last_day)
    in_window = counted.placed_date > as_of
    per_customer = counted.group_by("customer_id").aggregate(
        _first=counted.placed_date.min(), _in_window=counted.count(where=in_window)
    )
    population = per_customer.filter(per_customer._first <= as_of)
    return population.select("customer_id", churned=population._in_window == 0)


def model_features(columns: list[str] | tuple[str, ...]) -> tuple[list[str], list[str]]:
    """The numeric and the categorical features among ``columns`` the model reads."""
    numeric = [
        name
        for name, item in CATALOG.items()
        if item.type in NUMERIC_TYPES and item.group not in EXCLUDED_GROUPS and name in columns
    ]
    return numeric, [name for name in CATEGORICAL if name in columns]


def staged_tables(store: Store) -> Tables:
    """The workspace tables with the enriched order lines staged once, for features of any
    number of days."""
    return Tables.of(store).with_staged_lines(store.stage)


def feature_table(store: Store, as_of: date, tables: Tables | None = None) -> ir.Table:
    """``customer_id`` and the model's features as of ``as_of`` (numbers as float64) for
    every customer with a counted order by then (``tables``: :func:`staged_tables`, to share
    between days). Staged in the store's temporary tables, which the next call overwrites:
    read it before computing another day's."""
    features = compute_features(tables or staged_tables(store), store.stage, as_of).table
    numeric, categorical = model_features(features.columns)
    features = features.filter(features.number_of_orders > 0)
    return features.select(
        "customer_id",
        *categorical,
        **{name: features[name].cast("float64") for name in numeric},
    )


def feature_frame(store: Store, as_of: date, tables: Tables | None = None) -> pd.DataFrame:
    """:func:`feature_table` as a DataFrame sorted by ``customer_id``: what
    :meth:`ChurnModel.predict_proba` scores."""
    return _sorted_frame(feature_table(store, as_of, tables))


def training_frame(
    store: Store,
    as_of: date,
    horizon_days: int = HORIZON_DAYS,
    tables: Tables | None = None,
) -> pd.DataFrame:
    """The features as of ``as_of`` of the label population, with its ``churned`` label."""
    labels = churn_labels(store.table("orders"), as_of, horizon_days)
    return _sorted_frame(feature_table(store, as_of, tables).join(labels, "customer_id"))


def _sorted_frame(table: ir.Table) -> pd.DataFrame:
    frame = table.to_pyarrow().to_pandas()
    return frame.sort_values("customer_id", ignore_index=True)


# -- the model --------------------------------------------------------------------------------
class ChurnModel:
    """A gradient-boosting classifier of churn (scikit-learn's
    ``HistGradientBoostingClassifier``) over the columns of a :func:`training_frame`."""

    def __init__(self, random_state: int = 0):
        self.random_state = random_state
        self.numeric_: list[str] | None = None
        self.categories_: dict[str, list[str]] = {}
        self.estimator_: HistGradientBoostingClassifier | None = None
        self.training_rows_: int = 0

    def fit(self, frame: pd.DataFrame) -> Self:
        """Learn ``churned`` from the feature columns of ``frame``."""
        from sklearn.ensemble import HistGradientBoostingClassifier

        check_labels(frame["churned"], "the training frame")
        numeric, categorical = model_features(list(frame.columns))
        # A feature no training customer has (no birth years, no email events) says nothing.
        self.numeric_ = [name for name in numeric if frame[name].notna().any()]
        self.categories_ = {name: _frequent_values(frame[name]) for name in categorical}
        smallest, largest = MIN_LEAF
        self.estimator_ = HistGradientBoostingClassifier(
            **CLASSIFIER,
            min_samples_leaf=max(smallest, min(largest, len(frame) // 20)),
            random_state=self.random_state,
        )
        labels = frame["churned"].astype(bool).to_numpy()
        with _threads_for(len(frame)):
            self.estimator_.fit(self._inputs(frame), labels)
        self.training_rows_ = len(frame)
        return self

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        """The probability that each row's customer churns (places no counted order within
        the horizon); ``frame`` has the columns of :func:`feature_frame`."""
        if self.estimator_ is None:
            raise SegmintError("the churn model is not fitted: call .fit() first")
        churned = list(self.estimator_.classes_).index(True)
        with _threads_for(len(frame)):
            return self.estimator_.predict_proba(self._inputs(frame))[:, churned]

    @property
    def features(self) -> list[str]:
        """The columns the model reads, in order."""
        return [*(self.numeric_ or []), *self.categories_]

    def _inputs(self, frame: pd.DataFrame) -> pd.DataFrame:
        import pandas as pd

        missing = [name for name in self.features if name not in frame.columns]
        if missing:
            raise SegmintError("the churn model's features are missing: " + ", ".join(missing))
        columns = {name: frame[name].astype("float64") for name in self.numeric_ or []}
        for name, values in self.categories_.items():
            # Unseen values become missing, which the classifier handles.
            columns[name] = pd.Categorical(frame[name], categories=values)
        return pd.DataFrame(columns, index=frame.index)


def _threads_for(rows: int) -> Any:
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1 if rows < SINGLE_THREAD_ROWS else None)


def _frequent_values(column: pd.Series) -> list[str]:
    counts = column.dropna().astype(str).value_counts()
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [value for value, _ in ranked[:MAX_CATEGORIES]]


def fit_churn_model(
    frame: pd.DataFrame, max_training_rows: int = 200_000, random_state: int = 0
) -> ChurnModel:
    """A :class:`ChurnModel` fitted on ``frame``, or on a random ``max_training_rows`` of it."""
    if len(frame) > max_training_rows:
        frame = frame.sample(n=max_training_rows, random_state=random_state)
    return ChurnModel(random_state).fit(frame)


def check_labels(churned: Any, what: str) -> None:
    """Raise :class:`SegmintError` unless ``churned`` holds both churners and stayers."""
    import numpy as np

    labels = np.asarray(churned, dtype=bool)
    check_counts(int(labels.size), int(labels.sum()), what)


def check_counts(customers: int, churners: int, what: str) -> None:
    """Raise :class:`SegmintError` unless ``what`` has both churners and stayers."""
    if customers == 0:
        raise SegmintError(
            f"{what} has no customers with an order",
            hint="the churn model needs orders from before the training as-of day",
        )
    if churners in (0, customers):
        which = "churned" if churners else "ordered again"
        raise SegmintError(
            f"{what} has only one kind of customer: all {customers} {which}",
            hint="a churn model needs both churners and returning customers; "
            "use more history or another horizon",
        )


# -- metrics ----------------------------------------------------------------------------------
def top_count(customers: int, share: float = TOP_SHARE) -> int:
    """How many customers the top ``share`` holds: ``ceil(share * customers)``, at least 1."""
    return max(1, math.ceil(round(share * customers, 9)))


def top_decile_precision(churned: Any, score: Any, share: float = TOP_SHARE) -> float:
    """The share of churners among the :func:`top_count` customers with the highest
    ``score``; customers tied with the last one taken count in proportion (the expected
    precision when ties are broken at random)."""
    import numpy as np

    labels = np.asarray(churned, dtype=bool)
    scores = _finite(score)
    if labels.size == 0 or labels.size != scores.size:
        raise SegmintError("precision at the top decile needs one score per labelled customer")
    k = top_count(labels.size, share)
    cut = np.sort(scores)[::-1][k - 1]
    above, tied = scores > cut, scores == cut
    hits = labels[above].sum() + (k - above.sum()) * labels[tied].mean()
    return float(hits / k)


def top_decile_lift(churned: Any, score: Any, share: float = TOP_SHARE) -> float:
    """:func:`top_decile_precision` over the base churn rate (1 is no better than chance)."""
    import numpy as np

    return top_decile_precision(churned, score, share) / float(np.mean(churned))


def _finite(score: Any) -> np.ndarray:
    """Scores as floats, a missing or infinite one ranked below every other."""
    import numpy as np

    scores = np.asarray(score, dtype=float)
    finite = np.isfinite(scores)
    if not finite.all():
        floor = scores[finite].min() - 1 if finite.any() else 0.0
        scores = np.where(finite, scores, floor)
    return scores


@dataclass(frozen=True)
class ScoreMetrics:
    """How well one churn score ranks the evaluation population."""

    score: str
    roc_auc: float
    precision_top_decile: float
    lift_top_decile: float

    @classmethod
    def of(cls, name: str, churned: Any, score: Any) -> ScoreMetrics:
        from sklearn.metrics import roc_auc_score

        return cls(
            name,
            float(roc_auc_score(churned, _finite(score))),
            top_decile_precision(churned, score),
            top_decile_lift(churned, score),
        )


# -- the backtest -----------------------------------------------------------------------------
@dataclass(frozen=True)
class LabelWindow:
    """Features as of ``as_of``; churn judged on orders in ``(as_of, as_of + horizon]``."""

    as_of: date
    horizon_days: int
    customers: int = 0
    churners: int = 0

    @property
    def first_day(self) -> date:
        return self.as_of + timedelta(days=1)

    @property
    def last_day(self) -> date:
        return self.as_of + timedelta(days=self.horizon_days)

    @property
    def churn_rate(self) -> float:
        return self.churners / self.customers if self.customers else math.nan

    def to_dict(self) -> dict[str, Any]:
        return {
            "features_as_of": self.as_of.isoformat(),
            "labels_from": self.first_day.isoformat(),
            "labels_to": self.last_day.isoformat(),
            "customers": self.customers,
            "churners": self.churners,
            "churn_rate": json_number(self.churn_rate),
        }


def counted_window(orders: ir.Table, window: LabelWindow, name: str) -> LabelWindow:
    """``window`` with its customers and churners counted (a cheap query, before any
    feature); raises :class:`SegmintError` when it lacks churners or returning customers."""
    labels = churn_labels(orders, window.as_of, window.horizon_days)
    counts = labels.aggregate(customers=labels.count(), churners=labels.churned.sum())
    row = counts.to_pyarrow().to_pylist()[0]
    customers, churners = int(row["customers"]), int(row["churners"] or 0)
    check_counts(customers, churners, f"the {name} window (as of {window.as_of})")
    return LabelWindow(window.as_of, window.horizon_days, customers, churners)


def backtest_windows(
    end: date, horizon_days: int = HORIZON_DAYS
) -> tuple[LabelWindow, LabelWindow]:
    """The training and evaluation windows ending at ``end``: labels in
    ``(end - 2h, end - h]`` and ``(end - h, end]``."""
    if horizon_days < 1:
        raise SegmintError(f"the churn horizon must be at least 1 day, not {horizon_days}")
    horizon = timedelta(days=horizon_days)
    return LabelWindow(end - 2 * horizon, horizon_days), LabelWindow(end - horizon, horizon_days)


@dataclass(frozen=True)
class ChurnBacktest:
    """The churn model and its BG/NBD baselines scored on the evaluation window."""

    end: date
    train: LabelWindow
    evaluate: LabelWindow
    training_rows: int
    features: tuple[str, ...]
    scores: tuple[ScoreMetrics, ...]
    baseline_params: dict[str, float] = field(default_factory=dict)

    @property
    def base_rate(self) -> float:
        return self.evaluate.churn_rate

    def score(self, name: str) -> ScoreMetrics:
        return next(s for s in self.scores if s.score == name)

    def as_rows(self) -> list[dict[str, Any]]:
        """One row per score: its metrics with the evaluation population's size and rate."""
        return [
            {
                "score": s.score,
                "customers": self.evaluate.customers,
                "base_rate": json_number(self.base_rate),
                "roc_auc": json_number(s.roc_auc),
                "precision_top_decile": json_number(s.precision_top_decile),
                "lift_top_decile": json_number(s.lift_top_decile),
            }
            for s in self.scores
        ]

    def to_dict(self) -> dict[str, Any]:
        """Everything, JSON-safe (dates as ISO strings, non-finite numbers as None)."""
        return {
            "end": self.end.isoformat(),
            "horizon_days": self.evaluate.horizon_days,
            "train": {**self.train.to_dict(), "rows_used": self.training_rows},
            "evaluate": self.evaluate.to_dict(),
            "features": list(self.features),
            "scores": self.as_rows(),
            "baseline": {"model": "bg_nbd", "time_unit": "week", **self.baseline_params},
        }


#: Names of the scores in a :class:`ChurnBacktest`, model first.
MODEL_SCORE = "gradient_boosting"
P_ALIVE_SCORE = "bg_nbd_1_minus_p_alive"
NO_ORDER_SCORE = "bg_nbd_p_no_order"


def churn_backtest(
    store: Store,
    end: date | None = None,
    horizon_days: int = HORIZON_DAYS,
    max_training_rows: int = 200_000,
    random_state: int = 0,
) -> ChurnBacktest:
    """Train on the window before the last one, evaluate on the last one ending at ``end``
    (default: the latest counted order day), next to the BG/NBD baselines."""
    orders = store.table("orders")
    end = end or latest_order_date(orders)
    train_window, evaluate_window = backtest_windows(end, horizon_days)
    train_window = counted_window(orders, train_window, "training")
    evaluate_window = counted_window(orders, evaluate_window, "evaluation")
    tables = staged_tables(store)
    model = train_churn_model(store, train_window, max_training_rows, random_state, tables)
    evaluation = training_frame(store, evaluate_window.as_of, horizon_days, tables)
    churned = evaluation["churned"].astype(bool).to_numpy()
    baseline, p_alive, no_order = bgnbd_scores(store, evaluation["customer_id"], evaluate_window)
    return ChurnBacktest(
        end=end,
        train=train_window,
        evaluate=evaluate_window,
        training_rows=model.training_rows_,
        features=tuple(model.features),
        scores=(
            ScoreMetrics.of(MODEL_SCORE, churned, model.predict_proba(evaluation)),
            ScoreMetrics.of(P_ALIVE_SCORE, churned, 1 - p_alive),
            ScoreMetrics.of(NO_ORDER_SCORE, churned, no_order),
        ),
        baseline_params={**baseline.params_, "log_likelihood": baseline.log_likelihood_},
    )


def train_churn_model(
    store: Store,
    window: LabelWindow,
    max_training_rows: int = 200_000,
    random_state: int = 0,
    tables: Tables | None = None,
) -> ChurnModel:
    """A model fitted on ``window``: features as of its as-of day, labels in its horizon."""
    train = training_frame(store, window.as_of, window.horizon_days, tables)
    check_labels(train["churned"], f"the training window (as of {window.as_of})")
    return fit_churn_model(train, max_training_rows, random_state)


def score_customers(
    store: Store,
    as_of: date | None = None,
    horizon_days: int = HORIZON_DAYS,
    max_training_rows: int = 200_000,
    random_state: int = 0,
) -> pd.DataFrame:
    """``customer_id, churn_probability`` for every customer with a counted order by
    ``as_of`` (default: the latest counted order day), from a model trained on the latest
    complete window: features as of ``as_of - horizon``, labels in ``(as_of - horizon,
    as_of]``."""
    import pandas as pd

    as_of = as_of or latest_order_date(store.table("orders"))
    _, latest = backtest_windows(as_of, horizon_days)
    latest = counted_window(store.table("orders"), latest, "training")
    tables = staged_tables(store)
    model = train_churn_model(store, latest, max_training_rows, random_state, tables)
    current = feature_frame(store, as_of, tables)
    probability = model.predict_proba(current)
    return pd.DataFrame({"customer_id": current["customer_id"], "churn_probability": probability})


def bgnbd_scores(
    store: Store, customer_ids: pd.Series, window: LabelWindow
) -> tuple[Any, np.ndarray, np.ndarray]:
    """BG/NBD fitted in weeks on every customer's summary as of ``window.as_of``, and for
    ``customer_ids`` (in order) its ``p_alive`` and probability of no order in the horizon.
    The summary is sorted first, so that the fit does not depend on the engine's row order."""
    from segmint.models.bgnbd import BetaGeoModel

    summary = customer_summary(
        store.table("orders"), store.table("refunds"), window.as_of, time_unit="week"
    )
    data = _sorted_frame(summary.select("customer_id", "frequency", "recency", "T"))
    model = BetaGeoModel(time_unit="week").fit(data.frequency, data.recency, data["T"])
    rows = data.set_index("customer_id").loc[customer_ids.to_numpy()]
    x, t_x, age = rows.frequency.to_numpy(), rows.recency.to_numpy(), rows["T"].to_numpy()
    no_order = model.probability_no_order(window.horizon_days / 7, x, t_x, age)
    return model, model.probability_alive(x, t_x, age), no_order
