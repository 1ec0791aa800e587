"""Pareto/NBD: how many orders a customer will place, and whether they are still a customer.

Schmittlein, Morrison & Colombo (1987), "Counting Your Customers: Who Are They and What Will
They Do Next?", Management Science 33(1); the likelihood as derived in Fader & Hardie (2005),
"A Note on Deriving the Pareto/NBD Model and Related Expressions". While alive, a customer
orders at rate ``lambda ~ Gamma(r, alpha)``; their lifetime is exponential with rate
``mu ~ Gamma(s, beta)``. For a customer with ``x`` repeat orders, the last at ``t_x``,
observed for ``T`` after the first order (Fader & Hardie's section 3)::

    L = G(r+x) alpha^r beta^s / G(r) * [ (alpha+T)^-(r+x) (beta+T)^-s + s/(r+s+x) A0 ]

where ``s/(r+s+x) A0 = s (F(t_x) - F(T))`` and, writing ``m = max(alpha, beta)``, ``P, Q``
the exponents that go with ``m`` and with the smaller one (``P = r+x, Q = s+1`` when
``alpha >= beta``, else ``P = s+1, Q = r+x``), ``a = r+s+x``::

    F(tau) = integral from tau to infinity of (alpha+u)^-(r+x) (beta+u)^-(s+1) du
           = 2F1(a, Q; a+1; z) / (a (m+tau)^a),          z = |alpha-beta| / (m+tau)
           = (1-z)^(1-Q) 2F1(1, P; a+1; z) / (a (m+tau)^a)   (Euler's transformation).

The last form is what is computed, in logs: ``2F1(1, P; a+1; z)`` lies between 1 and
``1/(1-z)`` whatever ``x`` is, so thousands of repeat orders cost nothing in range. It comes
from ``scipy.special.hyp2f1`` where that is reliable (``z <= 0.99`` or ``P <= Q``, and
within the bounds) and from the continued fraction of the incomplete beta function otherwise
(scipy fails to NaN for ``z`` near 1 with ``P`` large, that is ``alpha >> beta`` and many
orders).

The bracket is summed as ``D(x, T) + s F(x, t_x)`` with ``D = (alpha+T)^-(r+x) (beta+T)^-s -
s F(T) >= 0``: each part is computed once per distinct pair (few, for data in days), leaving
one ``logaddexp`` per customer; the subtraction loses nothing that matters, since the bracket
is at least its first term.

Predictions (the note's sections 4 to 6: the mean, P(alive), the conditional expectation)::

    P(alive) = (alpha+T)^-(r+x) (beta+T)^-s / [ D(x, T) + s F(x, t_x) ]
    E[X(t) | x, t_x, T] = (r+x) (beta+T) / ((alpha+T) (s-1)) [1 - ((beta+T)/(beta+T+t))^(s-1)]
                          * P(alive)
    E[X(t)] = r beta / (alpha (s-1)) [1 - (beta/(beta+t))^(s-1)]

with ``[1 - (b/(b+t))^(s-1)] / (s-1)`` computed as ``l * exprel(-(s-1) l)``,
``l = log(1 + t/b)``, which is also its limit at ``s = 1``.
"""

from __future__ import annotations

from typing import Self

import numpy as np
from scipy import special

from segmint.models.base import (
    ArrayLike,
    MaximumLikelihoodModel,
    as_weights,
    checked_summary,
    distinct_rows,
)

#: Above this ``z``, scipy's hyp2f1 is not trusted when ``p > q`` (compared with a
#: high-precision series, it is exact to 1e-13 below it, and for ``p <= q`` up to ``z = 1 -
#: 1e-9``, but turns NaN or wrong above it with ``p`` large); its values are also checked
#: against the bounds.
SCIPY_RELIABLE_Z = 0.99
#: Continued-fraction steps before giving up on more digits (about ``6.6 / sqrt(1 - z)``
#: are needed, so this covers ``z`` up to about ``1 - 1e-7``).
MAX_FRACTION_STEPS = 20_000
#: Where ``(1 - z)(p + 1)`` is below this, :func:`log_hyp2f1_near_one` is accurate to about
#: this relative error and the continued fraction would need millions of steps.
NEAR_ONE = 1e-7


class ParetoNBDModel(MaximumLikelihoodModel):
    """The Pareto/NBD model; parameters ``r, alpha`` (order rate) and ``s, beta`` (dropout)."""

    NAME = "pareto_nbd"
    PARAMETERS = ("r", "alpha", "s", "beta")

    def fit(
        self,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,  # noqa: N803 - the papers' name
        weights: ArrayLike | None = None,
    ) -> Self:
        """Maximum-likelihood estimates from repeat orders, recency and age per customer."""
        data = CustomerRows.of(frequency, recency, T, weights)
        age = max(float(np.average(data.T, weights=data.weights)), 1e-3)
        start = np.array([1.0, age, 1.0, age])
        return self._maximize(data.negative_log_likelihood, start, data.customers)

    # -- predictions -----------------------------------------------------------------
    def probability_alive(
        self,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,  # noqa: N803
    ) -> np.ndarray:
        """P(still a customer at ``T``)."""
        params = self._require_fitted()
        x, t_x, age = checked_summary(frequency, recency, T)
        alive, remaining = _log_end_terms(params, x, age)
        return np.exp(alive - np.logaddexp(remaining, _log_since_last(params, x, t_x)))

    def expected_purchases(
        self,
        t: ArrayLike,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,  # noqa: N803
    ) -> np.ndarray:
        """Expected orders in the next ``t`` time units (Fader & Hardie's section 6)."""
        r, alpha, s, beta = self._require_fitted()
        x, _, age = checked_summary(frequency, recency, T)
        t = np.asarray(t, dtype=float)
        per_alive = (r + x) * (beta + age) / (alpha + age) * _dropout_horizon(s, beta + age, t)
        return per_alive * self.probability_alive(frequency, recency, T)

    def expected_purchases_new(self, t: ArrayLike) -> np.ndarray:
        """Expected repeat orders in a new customer's first ``t`` time units (section 4)."""
        r, alpha, s, beta = self._require_fitted()
        return r * beta / alpha * _dropout_horizon(s, beta, np.asarray(t, dtype=float))


class CustomerRows:
    """Distinct ``(x, t_x, T)`` rows with their weights, and the distinct ``x``,
    ``(x, t_x)`` and ``(x, T)`` that the likelihood's terms depend on."""

    def __init__(
        self,
        x: np.ndarray,
        t_x: np.ndarray,
        T: np.ndarray,  # noqa: N803
        weights: np.ndarray,
    ):
        if len(x) == 0:
            raise ValueError("no customers to fit")
        (self.x, self.t_x, self.T), index = distinct_rows(x, t_x, T)
        self.weights = np.bincount(index, weights=weights, minlength=len(self.x))
        self.customers = float(weights.sum())
        (self.counts,), count_index = distinct_rows(self.x)
        self.count_weights = np.bincount(count_index, weights=self.weights)
        self.last, self.last_index = distinct_rows(self.x, self.t_x)
        self.end, self.end_index = distinct_rows(self.x, self.T)

    @classmethod
    def of(
        cls,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,  # noqa: N803
        weights: ArrayLike | None = None,
    ) -> CustomerRows:
        x, t_x, age = (v.ravel() for v in checked_summary(frequency, recency, T))
        return cls(x, t_x, age, as_weights(weights, len(x)))

    def negative_log_likelihood(self, params: np.ndarray) -> float:
        """``-sum(weights * log L)``: terms in ``x`` alone summed once per distinct count,
        ``F`` once per distinct ``(x, t_x)`` and ``(x, T)``."""
        r, alpha, s, beta = params
        per_count = special.gammaln(r + self.counts) - special.gammaln(r)
        constant = r * np.log(alpha) + s * np.log(beta)
        _, remaining = _log_end_terms(params, *self.end)
        since_last = _log_since_last(params, *self.last)
        bracket = np.logaddexp(remaining[self.end_index], since_last[self.last_index])
        # Multiply and sum rather than np.dot: BLAS threads make a dot of this size 20 times
        # slower on a busy machine.
        total = (
            np.sum(self.count_weights * per_count)
            + self.customers * constant
            + np.sum(self.weights * bracket)
        )
        return -float(total)


def negative_log_likelihood(
    params: np.ndarray,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,  # noqa: N803
    weights: ArrayLike | None = None,
) -> float:
    """``-sum(weights * log L)`` at ``params = (r, alpha, s, beta)``."""
    return CustomerRows.of(frequency, recency, T, weights).negative_log_likelihood(
        np.asarray(params, dtype=float)
    )


def log_likelihoods(
    params: np.ndarray,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,  # noqa: N803
) -> np.ndarray:
    """Each customer's ``log L`` at ``params = (r, alpha, s, beta)``, in input order."""
    r, alpha, s, beta = np.asarray(params, dtype=float)
    x, t_x, age = checked_summary(frequency, recency, T)
    params = (r, alpha, s, beta)
    _, remaining = _log_end_terms(params, x, age)
    constant = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    return constant + np.logaddexp(remaining, _log_since_last(params, x, t_x))


# -- the likelihood's pieces -----------------------------------------------------------
def _log_end_terms(
    params: tuple[float, ...], x: np.ndarray, age: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """What depends on ``(x, T)``, in logs: the paper's first term ``(alpha+T)^-(r+x)
    (beta+T)^-s`` (alive at ``T``) and that term less ``s F(T)``; the difference is at least
    0 and the bracket at least the first term, so the subtraction costs no accuracy."""
    r, alpha, s, beta = params
    alive = -(r + x) * np.log(alpha + age) - s * np.log(beta + age)
    gap = np.minimum(np.log(s) + _log_tail_integral(params, x, age) - alive, 0.0)
    with np.errstate(divide="ignore"):  # -expm1 is exact to rounding, so is its log
        return alive, alive + np.log(-np.expm1(gap))


def _log_since_last(params: tuple[float, ...], x: np.ndarray, t_x: np.ndarray) -> np.ndarray:
    """What depends on ``(x, t_x)``: ``log(s F(t_x))``."""
    return np.log(params[2]) + _log_tail_integral(params, x, t_x)


def _log_tail_integral(params: tuple[float, ...], x: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """``log F(tau)``, ``F(tau) = integral from tau to infinity of (alpha+u)^-(r+x)
    (beta+u)^-(s+1) du``, through Euler's transformation of the Gauss hypergeometric."""
    r, alpha, s, beta = params
    x, tau = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(tau, dtype=float))
    if alpha >= beta:
        larger, smaller, p, q = alpha, beta, r + x, np.full_like(x, s + 1)
    else:
        larger, smaller, p, q = beta, alpha, np.full_like(x, s + 1), r + x
    a = r + s + x
    z = (larger - smaller) / (larger + tau)
    rest = (smaller + tau) / (larger + tau)  # 1 - z, exact even where z rounds to 1
    return (
        -np.log(a)
        - a * np.log(larger + tau)
        + (1 - q) * np.log(rest)
        + log_hyp2f1_euler(p, q, z, rest)
    )


def log_hyp2f1_euler(
    p: np.ndarray, q: np.ndarray, z: np.ndarray, rest: np.ndarray | None = None
) -> np.ndarray:
    """``log 2F1(1, p; p+q; z)`` for ``p, q > 0`` and ``0 <= z < 1`` (``rest``: ``1 - z``
    computed without rounding): scipy where reliable, the continued fraction elsewhere
    (accurate to 1e-9 up to ``z = 1 - 1e-7``), and next to ``z = 1`` the expansion
    :func:`log_hyp2f1_near_one`."""
    p, q, z = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (p, q, z)))
    rest = 1 - z if rest is None else np.broadcast_to(np.asarray(rest, dtype=float), z.shape)
    near_one = (rest * (p + 1) < NEAR_ONE) & (np.abs(q - 1) > 1e-3)
    if np.any(near_one):
        value = np.empty(z.shape)
        value[near_one] = log_hyp2f1_near_one(p[near_one], q[near_one], rest[near_one])
        far = ~near_one
        value[far] = log_hyp2f1_euler(p[far], q[far], z[far], rest[far])
        return value
    value = np.asarray(special.hyp2f1(1.0, p, p + q, z))
    with np.errstate(invalid="ignore"):
        doubtful = (
            ((z > SCIPY_RELIABLE_Z) & (p > q))
            | ~np.isfinite(value)
            | (value < 1 - 1e-12)
            | (value * (1 - z) > 1 + 1e-12)
        )
    if np.any(doubtful):
        value = value.copy()
        value[doubtful] = hyp2f1_continued_fraction(p[doubtful], q[doubtful], z[doubtful])
    return np.log(value)


def log_hyp2f1_near_one(p: np.ndarray, q: np.ndarray, rest: np.ndarray) -> np.ndarray:
    """``log 2F1(1, p; p+q; z)`` for ``z`` next to 1 (``rest = 1 - z``), from the connection
    formula (Abramowitz & Stegun 15.3.6) with ``c - a - b = q - 1``::

        2F1 = G(p+q) G(1-q) / G(p) (1-z)^(q-1) + (p+q-1)/(q-1) + O((p+1)(1-z))

    the first term dominating for ``q < 1``, the second for ``q > 1`` (where the first
    vanishes, dropped at integer ``q``); ``q`` near 1, where both diverge, is not for this."""
    log_first = special.gammaln(p + q) + special.gammaln(1 - q) - special.gammaln(p)
    first = special.gammasgn(1 - q) * np.exp(log_first + (q - 1) * np.log(rest))
    first = np.where(np.isfinite(first), first, 0.0)
    return np.log(first + (p + q - 1) / (q - 1))


def hyp2f1_continued_fraction(p: np.ndarray, q: np.ndarray, z: np.ndarray) -> np.ndarray:
    """``2F1(1, p; p+q; z)`` by the continued fraction of the incomplete beta function
    (``B_z(A, B) = z^A (1-z)^B / A * 2F1(A+B, 1; A+1; z)`` with ``A = p+q-1, B = 1-q``),
    evaluated with the modified Lentz method, vectorized, each element until it converges."""
    p, q, z = (np.atleast_1d(np.asarray(v, dtype=float)) for v in (p, q, z))
    d = 1 / (1 - p * z / (p + q))
    c, result = np.ones_like(z), d.copy()
    active = np.arange(len(z))
    step = 0
    while len(active) and step < MAX_FRACTION_STEPS:
        pa, qa, za = p[active], q[active], z[active]
        da, ca, ha = d[active], c[active], result[active]
        for _ in range(8):
            step += 1
            span = pa + qa + 2 * step
            even = -step * (qa - 1 + step) * za / ((span - 2) * (span - 1))
            odd = -(pa + qa - 1 + step) * (pa + step) * za / ((span - 1) * span)
            for numerator in (even, odd):
                da = 1 / _away_from_zero(1 + numerator * da)
                ca = _away_from_zero(1 + numerator / ca)
                ha = ha * da * ca
        d[active], c[active], result[active] = da, ca, ha
        active = active[np.abs(da * ca - 1) >= 1e-15]
    return result


def _away_from_zero(values: np.ndarray, tiny: float = 1e-300) -> np.ndarray:
    return np.where(np.abs(values) < tiny, tiny, values)


def _dropout_horizon(s: float, base: np.ndarray, t: np.ndarray) -> np.ndarray:
    """``[1 - (base/(base+t))^(s-1)] / (s-1)``, also at and near ``s = 1``."""
    span = np.log1p(t / base)
    return span * special.exprel(-(s - 1) * span)


__all__ = [
    "CustomerRows",
    "ParetoNBDModel",
    "distinct_rows",
    "hyp2f1_continued_fraction",
    "log_hyp2f1_euler",
    "log_likelihoods",
    "negative_log_likelihood",
]
