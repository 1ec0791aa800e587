"""The Gamma-Gamma model of the mean spend per transaction (Fader & Hardie 2013).

Fader, P. S. and Hardie, B. G. S. (2013), "The Gamma-Gamma Model of Monetary Value";
Fader, Hardie & Lee (2005), "RFM and CLV: Using Iso-Value Curves for Customer Base
Analysis", Journal of Marketing Research 42(4).

A customer's spends z_1..z_x on repeat transactions are Gamma(p, nu) (shape p, rate nu),
and nu varies across customers as Gamma(q, gamma). The mean repeat spend zbar of a
customer with x repeat transactions then has the marginal density

    f(zbar | p, q, gamma, x) = Gamma(px + q) / (Gamma(px) Gamma(q))
                               * gamma^q * x^(px) * zbar^(px - 1) / (gamma + x zbar)^(px + q)

and the log-likelihood is the weighted sum of ``log f`` over customers with x > 0 and
zbar > 0, every constant included (this is the convention of the paper's -4055.92 on the
946 CDNOW repeat buyers; dropping ``px log x + (px - 1) log zbar`` changes the value, not
the estimates). The posterior of nu is Gamma(px + q, gamma + x zbar), so the expected
spend per transaction of a customer is

    E[Z | x, zbar] = p (gamma + x zbar) / (px + q - 1)
                   = w * p gamma / (q - 1) + (1 - w) * zbar,   w = (q - 1) / (px + q - 1),

which for x = 0 is the population mean p gamma / (q - 1). That mean is infinite when
q <= 1 (a heavy right tail of spend); the model then returns ``inf`` instead of raising,
and ``has_finite_mean`` says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Self

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import digamma, gammaln

from segmint.errors import SegmintError
from segmint.models.base import (
    MaximumLikelihoodModel,
    as_weights,
    distinct_rows,
    json_number,
    read_number,
)


class GammaGammaModel(MaximumLikelihoodModel):
    """Mean spend per transaction, fitted on repeat buyers with positive mean spend.

    Fitted attributes beyond the base class: ``excluded_no_repeat_`` and
    ``excluded_nonpositive_`` (weighted counts of the customers left out of the likelihood
    because x = 0, or because their mean repeat spend is zero or negative).
    """

    NAME = "gamma_gamma"
    PARAMETERS = ("p", "q", "gamma")

    excluded_no_repeat_: float
    excluded_nonpositive_: float

    def fit(
        self,
        frequency: ArrayLike,
        monetary_value: ArrayLike,
        weights: ArrayLike | None = None,
    ) -> Self:
        """Maximum-likelihood estimates of p, q, gamma.

        ``frequency`` is the number of repeat transactions x, ``monetary_value`` the mean
        spend of those repeat transactions; ``weights`` counts the customers sharing a row.
        """
        x, zbar = _spend_arrays(frequency, monetary_value)
        weights = as_weights(weights, len(x))
        repeat = x > 0
        kept = repeat & (zbar > 0)
        self.excluded_no_repeat_ = float(weights[~repeat].sum())
        self.excluded_nonpositive_ = float(weights[repeat & ~kept].sum())
        if not weights[kept].sum() > 0:
            raise SegmintError(
                "the spend model has no customer to fit",
                hint="it needs customers with repeat purchases and a positive mean spend",
            )
        data = SpendData.build(x[kept], zbar[kept], weights[kept])
        return self._maximize(
            data.negative_log_likelihood, _start(data), data.customers, gradient=data.gradient
        )

    # -- predictions -----------------------------------------------------------------
    def population_mean_spend(self) -> float:
        """Mean spend per transaction over the population, p gamma / (q - 1); ``inf`` when
        q <= 1 (the mixing distribution has no finite mean)."""
        p, q, gamma = self._require_fitted()
        return p * gamma / (q - 1) if q > 1 else math.inf

    @property
    def has_finite_mean(self) -> bool:
        """Whether the population mean spend is finite (q > 1)."""
        return self._require_fitted()[1] > 1

    def expected_spend(self, frequency: ArrayLike, monetary_value: ArrayLike) -> np.ndarray:
        """Expected spend per transaction of each customer, E[Z | x, zbar].

        Customers with x = 0, or with a zero or negative mean spend (left out of the fit),
        get the population mean; ``inf`` where p x + q <= 1.
        """
        p, q, gamma = self._require_fitted()
        x, zbar = _spend_arrays(frequency, monetary_value)
        informative = (x > 0) & (zbar > 0)
        x = np.where(informative, x, 0.0)
        zbar = np.where(informative, zbar, 0.0)
        denominator = p * x + q - 1
        finite = denominator > 0
        spend = p * (gamma + x * zbar) / np.where(finite, denominator, 1.0)
        return np.where(finite, spend, np.inf)

    # -- files -----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data["excluded"] = {
            "no_repeat": json_number(self.excluded_no_repeat_),
            "nonpositive_spend": json_number(self.excluded_nonpositive_),
        }
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        model = super().from_dict(data)
        excluded = data.get("excluded") or {}
        model.excluded_no_repeat_ = read_number(excluded.get("no_repeat"))
        model.excluded_nonpositive_ = read_number(excluded.get("nonpositive_spend"))
        return model


@dataclass(frozen=True)
class SpendData:
    """The likelihood's data, reduced once before optimizing.

    Customers sharing (x, zbar) become one weighted row, rows are sorted by x, and the
    terms in x alone are evaluated once per distinct x against the total weight of its
    customers; the terms in zbar alone reduce to two weighted sums. Only
    ``log(gamma + x zbar)`` is evaluated per row, then summed per distinct x.
    """

    distinct_x: np.ndarray
    weight_per_x: np.ndarray
    #: Where each distinct x's rows start.
    x_starts: np.ndarray
    x_zbar: np.ndarray
    weights: np.ndarray
    customers: float
    sum_w_log_zbar: float
    sum_wx_log_zbar: float
    mean_zbar: float
    variance_zbar: float

    @classmethod
    def build(cls, x: np.ndarray, zbar: np.ndarray, weights: np.ndarray) -> SpendData:
        """From customers with x > 0 and zbar > 0."""
        # spends rounded to cents repeat often: equal (x, zbar) rows become one weighted row
        (x, zbar), index = distinct_rows(x, zbar)
        weights = np.bincount(index, weights=weights)
        x_starts = np.flatnonzero(np.r_[True, np.diff(x) != 0])
        distinct_x = x[x_starts]
        log_zbar = np.log(zbar)
        customers = float(weights.sum())
        mean_zbar = float(weights @ zbar) / customers
        return cls(
            distinct_x=distinct_x,
            weight_per_x=np.add.reduceat(weights, x_starts),
            x_starts=x_starts,
            x_zbar=x * zbar,
            weights=weights,
            customers=customers,
            sum_w_log_zbar=float(weights @ log_zbar),
            sum_wx_log_zbar=float((weights * x) @ log_zbar),
            mean_zbar=mean_zbar,
            variance_zbar=float(weights @ (zbar - mean_zbar) ** 2) / customers,
        )

    def negative_log_likelihood(self, params: np.ndarray) -> float:
        p, q, gamma = params
        px = p * self.distinct_x
        per_x = gammaln(px + q) - gammaln(px) + px * np.log(self.distinct_x)
        log_scale = np.log(gamma + self.x_zbar)
        log_scale *= self.weights
        log_scale_per_x = np.add.reduceat(log_scale, self.x_starts)
        log_likelihood = (
            self.weight_per_x @ per_x
            - (px + q) @ log_scale_per_x
            + self.customers * (q * math.log(gamma) - gammaln(q))
            + p * self.sum_wx_log_zbar
            - self.sum_w_log_zbar
        )
        return -float(log_likelihood)

    def gradient(self, params: np.ndarray) -> np.ndarray:
        """Gradient of :meth:`negative_log_likelihood` in (p, q, gamma)."""
        p, q, gamma = params
        px = p * self.distinct_x
        shifted = gamma + self.x_zbar
        log_scale_per_x = np.add.reduceat(np.log(shifted) * self.weights, self.x_starts)
        inverse_per_x = np.add.reduceat(self.weights / shifted, self.x_starts)
        digamma_sum = digamma(px + q)
        d_p = (
            self.weight_per_x
            @ (self.distinct_x * (digamma_sum - digamma(px) + np.log(self.distinct_x)))
            - self.distinct_x @ log_scale_per_x
            + self.sum_wx_log_zbar
        )
        d_q = (
            self.weight_per_x @ digamma_sum
            - log_scale_per_x.sum()
            + self.customers * (math.log(gamma) - digamma(q))
        )
        d_gamma = self.customers * q / gamma - (px + q) @ inverse_per_x
        return -np.array([d_p, d_q, d_gamma])


def negative_log_likelihood(
    params: ArrayLike,
    frequency: ArrayLike,
    monetary_value: ArrayLike,
    weights: ArrayLike | None = None,
) -> float:
    """Minus the Gamma-Gamma log-likelihood of ``params`` = (p, q, gamma), constants
    included, over the rows with x > 0 and zbar > 0 (the others carry no spend
    information and are skipped)."""
    x, zbar = _spend_arrays(frequency, monetary_value)
    weights = as_weights(weights, len(x))
    kept = (x > 0) & (zbar > 0)
    return SpendData.build(x[kept], zbar[kept], weights[kept]).negative_log_likelihood(
        np.asarray(params, dtype=float)
    )


def _start(data: SpendData) -> np.ndarray:
    """Starting values from the spread of mean spends: for large x, zbar ~ p / nu has a
    squared coefficient of variation of about 1 / (q - 2); p = 1 and gamma matches the
    mean."""
    mean, variance = data.mean_zbar, data.variance_zbar
    q = min(2.0 + mean**2 / max(variance, 1e-12 * mean**2), 50.0)
    return np.array([1.0, q, mean * (q - 1)])


def _spend_arrays(frequency: ArrayLike, monetary_value: ArrayLike) -> tuple[np.ndarray, ...]:
    x = np.asarray(frequency, dtype=float).ravel()
    zbar = np.asarray(monetary_value, dtype=float).ravel()
    if x.shape != zbar.shape:
        raise SegmintError(
            f"frequency and monetary_value differ in length ({len(x)} and {len(zbar)})"
        )
    if not (np.isfinite(x).all() and np.isfinite(zbar).all()):
        raise SegmintError("frequency and monetary_value must be finite numbers")
    if (x < 0).any():
        raise SegmintError("frequency (repeat transactions) cannot be negative")
    return x, zbar
