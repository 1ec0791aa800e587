"""The shape every fitted model shares: maximum likelihood, standard errors, JSON files.

A model is configured by its constructor, ``fit(...)`` returns the model itself, and what
fitting found lives in attributes ending in ``_`` (scikit-learn's convention):
``params_`` (named as in the paper), ``standard_errors_``, ``log_likelihood_``,
``customers_`` and ``converged_``. ``summary()`` is a DataFrame; ``save``/``load`` write and
read JSON (never pickle), so a fitted model can be inspected, diffed and stored in the
workspace.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd
from scipy import optimize

from segmint.errors import SegmintError

#: What the models take per customer: an array, a list or one number.
ArrayLike = np.ndarray | list[float] | float
NegativeLogLikelihood = Callable[[np.ndarray], float]
Gradient = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Objective:
    """A likelihood to maximize: minus its log and that one's gradient, both in the natural
    parameters, and how many customers it sums over."""

    negative_ll: NegativeLogLikelihood
    gradient: Gradient
    customers: float


#: z for a two-sided 95% interval.
Z95 = 1.959963984540054


class NotFittedError(SegmintError):
    """A prediction was asked of a model that was neither fitted nor loaded."""


class MaximumLikelihoodModel:
    """Base of the buy-till-you-die and spend models: positive parameters, fitted by
    maximizing the log-likelihood over their logarithms."""

    #: Short name written in saved files and ``model_runs``.
    NAME: ClassVar[str]
    #: Parameter names, in the papers' order and spelling.
    PARAMETERS: ClassVar[tuple[str, ...]]

    params_: dict[str, float]
    standard_errors_: dict[str, float]
    log_likelihood_: float
    customers_: float
    converged_: bool

    def __init__(self, time_unit: str = "week"):
        self.time_unit = time_unit

    # -- fitting ---------------------------------------------------------------------
    def _maximize(
        self,
        negative_ll: NegativeLogLikelihood,
        start: np.ndarray,
        customers: float,
        gradient: Gradient | None = None,
        warm_up: Objective | None = None,
    ) -> Self:
        """Minimize ``negative_ll`` (a function of the natural parameters) over their logs,
        then store the estimates, the log-likelihood and Wald standard errors.

        The optimizers see the mean per customer, so that their tolerances mean the same
        for a thousand customers as for a million. With ``gradient`` (of ``negative_ll``
        in the natural parameters) BFGS alone searches (not L-BFGS-B: since scipy 1.15 its
        tiny BLAS calls can be slow under a multi-threaded OpenBLAS, scipy issue 22438) down
        to a gradient of 1e-7 per customer: the rounding of a sum over a million customers
        leaves the gradient uncertain to about 3e-8, and below that BFGS's line searches
        fail one after another (tens of wasted evaluations, more or fewer depending on the
        order of the rows); without it Nelder-Mead, then BFGS on numerical derivatives.
        Standard errors come from central differences of ``gradient`` when there is one (8
        gradient evaluations for 4 parameters instead of 33 of ``negative_ll``).

        ``warm_up``: the same likelihood over a sample of the customers (see
        :func:`thinned`). Its maximum is the search's start and its curvature there the
        search's first inverse Hessian, so that BFGS over every customer takes a few steps
        instead of a few dozen; the estimates are those of the full likelihood all the same."""
        on_logs = _per_customer_on_logs(negative_ll, customers)
        logs = np.log(np.asarray(start, dtype=float))
        if gradient is not None:
            slope_on_logs = _per_customer_slope_on_logs(gradient, customers)
            options: dict[str, Any] = {"gtol": _GTOL}
            cold = logs
            if warm_up is not None:
                logs, options["hess_inv0"] = _warm_start(warm_up, logs)
                if options["hess_inv0"] is None:
                    del options["hess_inv0"]
            coarse = fine = optimize.minimize(
                on_logs, logs, jac=slope_on_logs, method="BFGS", options=options
            )
            if warm_up is not None and not (fine.success or _stationary(fine)):
                # the sample led somewhere the full likelihood does not settle: start over
                coarse = optimize.minimize(
                    on_logs, cold, jac=slope_on_logs, method="BFGS", options={"gtol": _GTOL}
                )
        else:
            coarse = optimize.minimize(on_logs, logs, method="Nelder-Mead", options=_NELDER_MEAD)
            fine = optimize.minimize(on_logs, coarse.x, method="BFGS", options={"gtol": 1e-8})
        best = fine if fine.fun <= coarse.fun else coarse
        estimates = np.exp(best.x)
        self.params_ = dict(zip(self.PARAMETERS, map(float, estimates), strict=True))
        self.log_likelihood_ = -float(negative_ll(estimates))
        self.standard_errors_ = dict(
            zip(self.PARAMETERS, standard_errors(negative_ll, estimates, gradient), strict=True)
        )
        self.customers_ = float(customers)
        self.converged_ = bool(best.success or coarse.success or _stationary(best))
        return self

    def _require_fitted(self) -> tuple[float, ...]:
        if not hasattr(self, "params_"):
            raise NotFittedError(f"{self.NAME} is not fitted", hint="call fit() or load() first")
        return tuple(self.params_[name] for name in self.PARAMETERS)

    # -- reporting -------------------------------------------------------------------
    def summary(self) -> pd.DataFrame:
        """One row per parameter: estimate, standard error and a 95% Wald interval."""
        self._require_fitted()
        rows = []
        for name in self.PARAMETERS:
            estimate, error = self.params_[name], self.standard_errors_.get(name, math.nan)
            rows.append(
                {
                    "parameter": name,
                    "estimate": estimate,
                    "standard_error": error,
                    "lower_95": estimate - Z95 * error,
                    "upper_95": estimate + Z95 * error,
                }
            )
        return pd.DataFrame(rows).set_index("parameter")

    # -- files -----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """What a saved model holds: enough to predict again without the data."""
        self._require_fitted()
        return {
            "model": self.NAME,
            "time_unit": self.time_unit,
            "params": self.params_,
            "standard_errors": {k: json_number(v) for k, v in self.standard_errors_.items()},
            "log_likelihood": self.log_likelihood_,
            "customers": self.customers_,
            "converged": self.converged_,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """A fitted model from :meth:`to_dict`'s output."""
        if data.get("model") != cls.NAME:
            raise SegmintError(f"not a {cls.NAME} model: {data.get('model')!r}")
        missing = [name for name in cls.PARAMETERS if name not in data.get("params", {})]
        if missing:
            raise SegmintError(f"{cls.NAME} model without {', '.join(missing)}")
        model = cls(time_unit=data.get("time_unit", "week"))
        model.params_ = {name: float(data["params"][name]) for name in cls.PARAMETERS}
        model.standard_errors_ = {
            k: read_number(v) for k, v in data.get("standard_errors", {}).items()
        }
        model.log_likelihood_ = float(data.get("log_likelihood", math.nan))
        model.customers_ = float(data.get("customers", math.nan))
        model.converged_ = bool(data.get("converged", True))
        return model

    def save(self, path: Path | str) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path | str) -> Self:
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))

    def __repr__(self) -> str:
        if not hasattr(self, "params_"):
            return f"{type(self).__name__}(unfitted)"
        shown = ", ".join(f"{k}={v:.4g}" for k, v in self.params_.items())
        return f"{type(self).__name__}({shown}, log_likelihood={self.log_likelihood_:.2f})"


#: Parameters beyond e^50 or below e^-50 are a degenerate fit (data without evidence for
#: them): the optimizer treats them as infinitely unlikely instead of overflowing.
LOG_BOUND = 50.0
_NELDER_MEAD = {"maxiter": 4000, "xatol": 1e-9, "fatol": 1e-10}
#: BFGS's gradient tolerance (per customer, in log parameters) with an analytic gradient.
_GTOL = 1e-7


#: Customers (rows) from which a fit first warms up on a sample (:func:`thinned`).
WARM_UP_FROM = 200_000
#: About how many rows that sample keeps.
WARM_UP_ROWS = 50_000


def thinned(*columns: np.ndarray) -> tuple[np.ndarray, ...] | None:
    """Every k-th row of ``columns``, about :data:`WARM_UP_ROWS` of them, to warm a fit up
    on (see ``MaximumLikelihoodModel._maximize``); None when there are fewer than
    :data:`WARM_UP_FROM` rows (the fit is quick enough without)."""
    rows = len(columns[0])
    if rows < WARM_UP_FROM:
        return None
    step = rows // WARM_UP_ROWS
    return tuple(column[::step] for column in columns)


def _per_customer_on_logs(negative_ll: NegativeLogLikelihood, customers: float) -> Callable:
    """``negative_ll`` per customer, as a function of the parameters' logs (huge outside
    :data:`LOG_BOUND` or where it is not finite)."""
    scale = max(float(customers), 1.0)

    def on_logs(logs: np.ndarray) -> float:
        if np.abs(logs).max() > LOG_BOUND:
            return 1e300
        value = negative_ll(np.exp(logs)) / scale
        return value if np.isfinite(value) else 1e300

    return on_logs


def _per_customer_slope_on_logs(gradient: Gradient, customers: float) -> Callable:
    """The gradient of :func:`_per_customer_on_logs`'s function."""
    scale = max(float(customers), 1.0)

    def slope_on_logs(logs: np.ndarray) -> np.ndarray:
        if np.abs(logs).max() > LOG_BOUND:
            return np.zeros_like(logs)
        params = np.exp(logs)
        return np.asarray(gradient(params)) * params / scale

    return slope_on_logs


def _warm_start(sample: Objective, logs: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Where BFGS over ``sample`` ends from ``logs``, and the inverse of the Hessian there
    (per customer, in logs: the full likelihood's is about the same); ``logs`` and None when
    the sample's search goes nowhere, None for a Hessian that is not positive definite."""
    slope = _per_customer_slope_on_logs(sample.gradient, sample.customers)
    found = optimize.minimize(
        _per_customer_on_logs(sample.negative_ll, sample.customers),
        logs,
        jac=slope,
        method="BFGS",
        options={"gtol": _GTOL},
    )
    if not (np.all(np.isfinite(found.x)) and found.fun < 1e300):
        return logs, None
    hessian = hessian_from_gradient(slope, found.x, relative=False)
    try:
        inverse = np.linalg.inv(hessian)
        inverse = (inverse + inverse.T) / 2
        np.linalg.cholesky(inverse)  # what BFGS checks of its first inverse Hessian
    except np.linalg.LinAlgError:
        return found.x, None
    return found.x, inverse


def _stationary(result: optimize.OptimizeResult) -> bool:
    """Whether the search stopped where the gradient (per customer, in log parameters)
    vanishes, though its line search could not improve the last digits any more."""
    slope = getattr(result, "jac", None)
    return slope is not None and bool(np.max(np.abs(slope)) < 1e-6)


def standard_errors(
    negative_ll: NegativeLogLikelihood,
    estimates: np.ndarray,
    gradient: Gradient | None = None,
) -> list[float]:
    """Wald standard errors: square roots of the diagonal of the inverse Hessian of the
    negative log-likelihood at the estimates (central differences, of ``gradient`` when
    given); NaN where the Hessian is not positive definite (a weakly identified parameter)."""
    if gradient is None:
        hessian = numerical_hessian(negative_ll, estimates)
    else:
        hessian = hessian_from_gradient(gradient, estimates)
    try:
        np.linalg.cholesky(hessian)
        variances = np.diag(np.linalg.inv(hessian))
    except np.linalg.LinAlgError:
        return [math.nan] * len(estimates)
    return [math.sqrt(v) if v > 0 else math.nan for v in variances]


def numerical_hessian(function: NegativeLogLikelihood, point: np.ndarray) -> np.ndarray:
    """Second derivatives of ``function`` at ``point`` by central differences, with steps
    relative to each coordinate (parameters are positive: a step never crosses zero, however
    small the estimate)."""
    point = np.asarray(point, dtype=float)
    steps = 1e-4 * np.where(point != 0, np.abs(point), 1e-3)
    size = len(point)
    hessian = np.empty((size, size))
    center = function(point)
    for i in range(size):
        for j in range(i, size):
            if i == j:
                up, down = point.copy(), point.copy()
                up[i] += steps[i]
                down[i] -= steps[i]
                hessian[i, i] = (function(up) - 2 * center + function(down)) / steps[i] ** 2
                continue
            corners = []
            for si, sj in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
                moved = point.copy()
                moved[i] += si * steps[i]
                moved[j] += sj * steps[j]
                corners.append(function(moved))
            value = (corners[0] - corners[1] - corners[2] + corners[3]) / (4 * steps[i] * steps[j])
            hessian[i, j] = hessian[j, i] = value
    return hessian


def hessian_from_gradient(
    gradient: Gradient, point: np.ndarray, relative: bool = True
) -> np.ndarray:
    """Second derivatives at ``point`` by central differences of the gradient (steps as in
    :func:`numerical_hessian`, ten times smaller: the error is that of a first derivative;
    ``relative=False``: steps of 1e-5, for coordinates that are logs), symmetrized."""
    point = np.asarray(point, dtype=float)
    if relative:
        steps = 1e-5 * np.where(point != 0, np.abs(point), 1e-3)
    else:
        steps = np.full(len(point), 1e-5)
    columns = []
    for i, step in enumerate(steps):
        moved = np.zeros_like(point)
        moved[i] = step
        up, down = np.asarray(gradient(point + moved)), np.asarray(gradient(point - moved))
        columns.append((up - down) / (2 * step))
    hessian = np.column_stack(columns)
    return (hessian + hessian.T) / 2


def distinct_values(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values and, for each input, the index of its value: terms that depend
    only on an integer count are computed once per distinct count and gathered back."""
    return np.unique(values, return_inverse=True)


def distinct_rows(*columns: np.ndarray) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """The distinct rows of ``columns`` (sorted) and each input row's index into them: one
    lexicographic sort, much faster than ``np.unique(..., axis=0)``."""
    order = np.lexsort(columns[::-1])
    ordered = [column[order] for column in columns]
    repeats = np.ones(len(order), dtype=bool)
    repeats[:1] = False
    for column in ordered:
        repeats[1:] &= column[1:] == column[:-1]
    starts = ~repeats
    index = np.empty(len(order), dtype=np.intp)
    index[order] = np.cumsum(starts) - 1
    return tuple(column[starts] for column in ordered), index


def as_weights(weights: np.ndarray | None, size: int) -> np.ndarray:
    """Customer weights (how many customers share a row); one each when not given."""
    if weights is None:
        return np.ones(size)
    weights = np.asarray(weights, dtype=float)
    if weights.shape != (size,):
        raise ValueError(f"weights must have {size} values, not {weights.shape}")
    return weights


def checked_summary(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,  # noqa: N803 - the papers' name
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Float arrays of a summary, refusing ones no customer can have."""
    x, t_x, age = np.broadcast_arrays(
        *(np.asarray(v, dtype=float) for v in (frequency, recency, T))
    )
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(t_x)) and np.all(np.isfinite(age))):
        raise ValueError("frequency, recency and T must be finite numbers")
    if np.any(x < 0) or np.any(x != np.floor(x)):
        raise ValueError("frequency must be whole numbers of repeat orders, 0 or more")
    if np.any(t_x < 0) or np.any(t_x > age):
        raise ValueError("recency must be between 0 and T")
    if np.any((x == 0) & (t_x != 0)):
        raise ValueError("customers with no repeat order must have recency 0")
    return x, t_x, age


def json_number(value: float) -> float | None:
    """A number as a model file stores it: None where it is not finite (JSON has no NaN)."""
    return float(value) if math.isfinite(value) else None


def read_number(value: Any) -> float:
    """A number read back from a model file: NaN where the file holds none."""
    return math.nan if value is None else float(value)
