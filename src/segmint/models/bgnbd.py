"""BG/NBD: how many orders a customer will place, and whether they are still a customer.

Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way: An Alternative to the
Pareto/NBD Model", Marketing Science 24(2). While alive, a customer orders at rate
``lambda ~ Gamma(r, alpha)``; after each order they drop out with probability
``p ~ Beta(a, b)``. For a customer with ``x`` repeat orders, the last at ``t_x``, observed for
``T`` (time since the first order), the likelihood is (their equation 6)::

    L = B(a, b+x)/B(a, b) * G(r+x) alpha^r / (G(r) (alpha+T)^(r+x))
        + [x > 0] B(a+1, b+x-1)/B(a, b) * G(r+x) alpha^r / (G(r) (alpha+t_x)^(r+x))

computed here in logs: ``log L = A + logaddexp(-(r+x) log(alpha+T),
log a - log(b+x-1) - (r+x) log(alpha+t_x))`` where ``A`` depends on ``x`` only and is computed
once per distinct ``x``. Predictions: equation 10 (expected orders in the next ``t``),
probability alive (their appendix), and the unconditional ``E[X(t)]`` (equation 9).
"""

from __future__ import annotations

from typing import Self

import numpy as np
from scipy.special import betaln, gammaln, hyp2f1

from segmint.models.base import (
    ArrayLike,
    MaximumLikelihoodModel,
    as_weights,
    checked_summary,
    distinct_values,
)


class BetaGeoModel(MaximumLikelihoodModel):
    """The BG/NBD model; parameters ``r, alpha`` (order rate) and ``a, b`` (dropout)."""

    NAME = "bg_nbd"
    PARAMETERS = ("r", "alpha", "a", "b")

    def fit(
        self,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,  # noqa: N803 - the papers' name
        weights: ArrayLike | None = None,
    ) -> Self:
        """Maximum-likelihood estimates from repeat orders, recency and age per customer."""
        data = RepeatData.of(frequency, recency, T, weights)
        start = np.array([1.0, max(float(np.average(data.T, weights=data.weights)), 1e-3), 1, 1])
        return self._maximize(data.negative_log_likelihood, start, data.customers)

    # -- predictions -----------------------------------------------------------------
    def probability_alive(
        self,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,  # noqa: N803
    ) -> np.ndarray:
        """P(still a customer at ``T``): 1 for a customer with no repeat order."""
        r, alpha, a, b = self._require_fitted()
        x, t_x, age = checked_summary(frequency, recency, T)
        return np.exp(-_log_odds_denominator(r, alpha, a, b, x, t_x, age))

    def expected_purchases(
        self,
        t: ArrayLike,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,  # noqa: N803
    ) -> np.ndarray:
        """Expected orders in the next ``t`` time units (equation 10)."""
        r, alpha, a, b = self._require_fitted()
        x, t_x, age = checked_summary(frequency, recency, T)
        t = np.asarray(t, dtype=float)
        z = t / (alpha + age + t)
        log_shrink = (r + x) * (np.log(alpha + age) - np.log(alpha + age + t))
        tail = np.exp(log_shrink) * hyp2f1(r + x, b + x, a + b + x - 1, z)
        numerator = (a + b + x - 1) / (a - 1) * (1 - tail)
        return numerator * np.exp(-_log_odds_denominator(r, alpha, a, b, x, t_x, age))

    def expected_purchases_new(self, t: ArrayLike) -> np.ndarray:
        """Expected orders in a new customer's first ``t`` time units (equation 9)."""
        r, alpha, a, b = self._require_fitted()
        t = np.asarray(t, dtype=float)
        tail = (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, t / (alpha + t))
        return (a + b - 1) / (a - 1) * (1 - tail)

    def probability_no_order(
        self,
        t: ArrayLike,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,  # noqa: N803
    ) -> np.ndarray:
        """P(no order in the next ``t``): gone, or alive with no order yet.

        Given alive, the order rate's posterior is ``Gamma(r+x, alpha+T)`` and a customer drops
        out only right after an order, so ``P = 1 - P(alive) + P(alive) ((alpha+T) /
        (alpha+T+t))^(r+x)``.
        """
        r, alpha, _, _ = self._require_fitted()
        x, t_x, age = checked_summary(frequency, recency, T)
        alive = self.probability_alive(x, t_x, age)
        waiting = np.exp((r + x) * (np.log(alpha + age) - np.log(alpha + age + t)))
        return 1 - alive + alive * waiting

    def median_time_to_next_order(
        self,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,  # noqa: N803
    ) -> np.ndarray:
        """The ``t`` at which the next order becomes more likely than not (solving
        ``probability_no_order(t) = 1/2``); NaN when the customer is more likely gone
        (``P(alive) <= 1/2``), for whom no such time exists."""
        r, alpha, _, _ = self._require_fitted()
        x, t_x, age = checked_summary(frequency, recency, T)
        alive = self.probability_alive(x, t_x, age)
        with np.errstate(divide="ignore", invalid="ignore"):
            remaining = 1 - 0.5 / alive
            t = (alpha + age) * np.expm1(-np.log(remaining) / (r + x))
        return np.where(alive > 0.5, t, np.nan)


class RepeatData:
    """Repeat orders, recency and age per customer, with the terms that depend on the
    number of repeat orders alone indexed by distinct count."""

    def __init__(
        self,
        x: np.ndarray,
        t_x: np.ndarray,
        T: np.ndarray,  # noqa: N803
        weights: np.ndarray,
    ):
        self.x, self.t_x, self.T, self.weights = x, t_x, T, weights
        self.counts, self.index = distinct_values(x)
        self.repeat = x > 0
        self.customers = float(weights.sum())

    @classmethod
    def of(
        cls,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,  # noqa: N803
        weights: ArrayLike | None = None,
    ) -> RepeatData:
        x, t_x, age = checked_summary(frequency, recency, T)
        return cls(x, t_x, age, as_weights(weights, len(x)))

    def log_likelihoods(self, params: np.ndarray) -> np.ndarray:
        """Each customer's log-likelihood (equation 6, in logs)."""
        r, alpha, a, b = params
        u = self.counts
        per_count = (
            gammaln(r + u) - gammaln(r) + r * np.log(alpha) + betaln(a, b + u) - betaln(a, b)
        )
        with np.errstate(divide="ignore", invalid="ignore"):  # b + x - 1 <= 0 only at x = 0
            log_b_term = np.log(a) - np.log(b + u - 1)
        x = self.x
        alive = -(r + x) * np.log(alpha + self.T)
        gone = np.where(
            self.repeat,
            log_b_term[self.index] - (r + x) * np.log(alpha + self.t_x),
            -np.inf,
        )
        return per_count[self.index] + np.logaddexp(alive, gone)

    def negative_log_likelihood(self, params: np.ndarray) -> float:
        return -float((self.weights * self.log_likelihoods(params)).sum())


def negative_log_likelihood(
    params: np.ndarray,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,  # noqa: N803
    weights: ArrayLike | None = None,
) -> float:
    """``-sum(weights * log L)`` at ``params = (r, alpha, a, b)``."""
    return RepeatData.of(frequency, recency, T, weights).negative_log_likelihood(
        np.asarray(params, dtype=float)
    )


def _log_odds_denominator(
    r: float,
    alpha: float,
    a: float,
    b: float,
    x: np.ndarray,
    t_x: np.ndarray,
    age: np.ndarray,
) -> np.ndarray:
    """``log(1 + [x > 0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x))``: minus log P(alive)."""
    with np.errstate(divide="ignore", invalid="ignore"):  # x = 0 is masked below
        ratio = (
            np.log(a) - np.log(b + x - 1) + (r + x) * (np.log(alpha + age) - np.log(alpha + t_x))
        )
    return np.where(x > 0, np.logaddexp(0, ratio), 0.0)


__all__ = ["BetaGeoModel", "RepeatData", "negative_log_likelihood"]
