"""Pareto/NBD against Fader & Hardie's CDNOW estimates, its own definition as an integral over
the gamma mixing distributions, and customers simulated from its story."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, special, stats

from segmint.models.paretonbd import (
    CustomerRows,
    ParetoNBDModel,
    distinct_rows,
    hyp2f1_continued_fraction,
    log_hyp2f1_euler,
    log_likelihoods,
    negative_log_likelihood,
)

PUBLISHED = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
NAMES = ("r", "alpha", "s", "beta")


@pytest.fixture(scope="module")
def cdnow(shared_data: Path) -> pd.DataFrame:
    return pd.read_csv(shared_data / "cdnow" / "cdnow_customers_summary.csv")


@pytest.fixture(scope="module")
def fitted(cdnow: pd.DataFrame) -> ParetoNBDModel:
    return ParetoNBDModel().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])


def test_cdnow_estimates_match_the_paper(fitted: ParetoNBDModel, cdnow: pd.DataFrame):
    assert fitted.log_likelihood_ == pytest.approx(-9594.97, abs=0.1)
    # All four within 0.5%, beta included: the fit lands on 11.668 (standard error 6.2, so
    # beta is weakly identified, but the maximum itself is well defined).
    for name, value in PUBLISHED.items():
        assert fitted.params_[name] == pytest.approx(value, rel=0.005), name
    assert fitted.converged_ and fitted.customers_ == 2357
    # The published (rounded) estimates are as good as the maximum to 1e-3.
    at_published = -negative_log_likelihood(
        list(PUBLISHED.values()), cdnow["frequency"], cdnow["recency"], cdnow["T"]
    )
    assert at_published == pytest.approx(fitted.log_likelihood_, abs=1e-3)


def test_standard_errors_and_summary(fitted: ParetoNBDModel, cdnow: pd.DataFrame):
    table = fitted.summary()
    assert list(table.index) == list(NAMES)
    assert (table["standard_error"] > 0).all()
    # One standard error of r away costs about half a unit of log-likelihood (less than that
    # only if the quadratic approximation were off; the others held, so at most that).
    moved = np.array([fitted.params_[k] for k in NAMES])
    moved[0] += fitted.standard_errors_["r"]
    loss = negative_log_likelihood(moved, cdnow["frequency"], cdnow["recency"], cdnow["T"])
    assert 0.5 <= loss + fitted.log_likelihood_ <= 5


# -- the definition: an integral over the gamma mixing distributions --------------------
def posterior_integral(
    params: tuple[float, float, float, float],
    x: int,
    t_x: float,
    age: float,
    function: str,
    scale: float,
) -> float:
    """``E[g(lambda, mu) L(x, t_x, T | lambda, mu)] * exp(-scale)`` over lambda ~ Gamma(r,
    alpha), mu ~ Gamma(s, beta), integrated numerically in log coordinates, where ``g`` is
    1 (the likelihood), ``alive`` (the alive-at-T part) or ``orders`` (alive part times the
    expected orders in the next 39 units, ``lambda/mu (1 - exp(-mu 39))``)."""
    r, alpha, s, beta = params
    # Gamma densities of log lambda and log mu (the Jacobian folded in), up to the constant.
    constant = r * math.log(alpha) - math.lgamma(r) + s * math.log(beta) - math.lgamma(s)

    def integrand(log_mu: float, log_lam: float) -> float:
        lam, mu = math.exp(log_lam), math.exp(log_mu)
        log_prior = constant + r * log_lam - alpha * lam + s * log_mu - beta * mu
        alive = math.exp(x * log_lam - (lam + mu) * age + log_prior - scale)
        if function == "alive":
            return alive
        if function == "orders":
            return alive * lam / mu * -math.expm1(-mu * 39)
        gone = math.exp(
            x * log_lam + log_mu - (lam + mu) * t_x - math.log(lam + mu) + log_prior - scale
        ) * -math.expm1(-(lam + mu) * (age - t_x))
        return alive + gone

    # Limits where the posterior's mass is (gamma quantiles of its two parts).
    lam_low = stats.gamma.ppf(1e-14, r + x, scale=1 / (alpha + age))
    lam_high = stats.gamma.isf(1e-14, r + x, scale=1 / (alpha + t_x))
    mu_low = stats.gamma.ppf(1e-14, s, scale=1 / (beta + age))
    mu_high = stats.gamma.isf(1e-14, s + 1, scale=1 / (beta + t_x))
    value, _ = integrate.dblquad(
        integrand,
        math.log(lam_low),
        math.log(lam_high),
        math.log(mu_low),
        math.log(mu_high),
        epsabs=1e-11,
        epsrel=1e-10,
    )
    return value


BRANCHES = {
    "cdnow (alpha < beta)": (0.553, 10.578, 0.606, 11.669),
    "alpha > beta": (0.8, 12.0, 0.5, 4.0),
    "alpha >> beta (continued fraction)": (0.5, 2000.0, 1.3, 0.5),
}
CUSTOMERS = [(0, 0.0, 38.86), (2, 30.43, 38.86), (7, 5.0, 38.86), (60, 37.0, 38.86)]


@pytest.mark.parametrize("params", BRANCHES.values(), ids=BRANCHES.keys())
def test_likelihood_and_predictions_equal_the_integral_over_the_mixing_distributions(
    params: tuple[float, float, float, float],
):
    model = ParetoNBDModel()
    model.params_ = dict(zip(NAMES, params, strict=True))
    x, t_x, age = (np.array(column) for column in zip(*CUSTOMERS, strict=True))
    log_l = log_likelihoods(params, x, t_x, age)
    alive = model.probability_alive(x, t_x, age)
    orders = model.expected_purchases(39, x, t_x, age)
    for i, (xi, ti, ai) in enumerate(CUSTOMERS):
        scale = float(log_l[i])  # so that the integral of the likelihood is 1 if right
        assert posterior_integral(params, xi, ti, ai, "likelihood", scale) == pytest.approx(
            1, rel=1e-8
        )
        expected_alive = posterior_integral(params, xi, ti, ai, "alive", scale)
        assert alive[i] == pytest.approx(expected_alive, rel=1e-8)
        expected_orders = posterior_integral(params, xi, ti, ai, "orders", scale)
        assert orders[i] == pytest.approx(expected_orders, rel=1e-8)


def test_hypergeometric_against_its_series():
    """``2F1(1, p; p+q; z)`` from scipy and from the continued fraction against the series
    summed term by term (``math.fsum`` of terms built in logs)."""

    def series(p: float, q: float, z: float) -> float:
        k = np.arange(400_000)
        log_terms = np.concatenate([[0.0], np.cumsum(np.log(z * (p + k) / (p + q + k)))])
        return math.log(math.fsum(np.exp(log_terms)))

    cases = [
        (1.55, 0.6, 0.05),
        (2000.6, 1.6, 0.5),
        (3.2, 700.5, 0.9),
        (1000.5, 1.6, 0.9999),
        (5000.5, 1.6, 0.9999),  # scipy returns NaN here (scipy 1.17)
    ]
    for p, q, z in cases:
        expected = series(p, q, z)
        assert log_hyp2f1_euler(p, q, z) == pytest.approx(expected, abs=1e-10), (p, q, z)
        fraction = hyp2f1_continued_fraction(np.array([p]), np.array([q]), np.array([z]))
        assert math.log(fraction[0]) == pytest.approx(expected, abs=1e-10), (p, q, z)


# -- simulation ------------------------------------------------------------------------
def simulate(
    params: dict[str, float], customers: int, seed: int, ages: tuple[float, float], horizon: float
) -> pd.DataFrame:
    """Customers drawn from the Pareto/NBD story: order rate lambda, exponential lifetime
    with rate mu, observed for T after the first order, then for ``horizon`` more."""
    rng = np.random.default_rng(seed)
    rates = rng.gamma(params["r"], 1 / params["alpha"], customers)
    dropouts = rng.gamma(params["s"], 1 / params["beta"], customers)
    ages = rng.uniform(*ages, customers)
    lifetimes = rng.exponential(1 / dropouts)
    observed = np.minimum(lifetimes, ages)
    orders = rng.poisson(rates * observed)
    # Given n orders in [0, observed], the last is observed * (max of n uniforms).
    last = observed * rng.random(customers) ** (1 / np.maximum(orders, 1))
    later = rng.poisson(rates * np.clip(lifetimes - ages, 0, horizon))
    return pd.DataFrame(
        {
            "frequency": orders,
            "recency": np.where(orders > 0, last, 0.0),
            "T": ages,
            "alive": lifetimes > ages,
            "holdout": later,
        }
    )


def test_recovers_the_parameters_it_was_simulated_from():
    truth = {"r": 0.8, "alpha": 12.0, "s": 0.5, "beta": 4.0}
    data = simulate(truth, 20_000, seed=11, ages=(26, 52), horizon=0)
    model = ParetoNBDModel().fit(data["frequency"], data["recency"], data["T"])
    # Within three standard errors each, and the standard errors small enough for that to
    # mean something: under 5% of the value for r and alpha, 15% for s and beta (measured:
    # 4.1%, 3.3%, 5.1%, 12%; the estimates land 0.4, 0.2, 1.6 and 1.3 errors away).
    for name, value in truth.items():
        error = model.standard_errors_[name]
        assert abs(model.params_[name] - value) < 3 * error, (name, model.params_[name], error)
        assert error < (0.05 if name in ("r", "alpha") else 0.15) * value, (name, error)


def test_predictions_agree_with_simulated_customers():
    """Averaged over a simulated population, P(alive) is the share still alive at T, the
    conditional expectation the orders that came in the next 39 units, and the new-customer
    expectation the mean number of repeat orders at age T (each to 4 standard errors)."""
    truth = {"r": 0.55, "alpha": 10.6, "s": 0.61, "beta": 11.7}
    model = ParetoNBDModel()
    model.params_ = dict(truth)
    data = simulate(truth, 100_000, seed=5, ages=(20, 60), horizon=39)
    x, t_x, age = data["frequency"], data["recency"], data["T"]
    alive = model.probability_alive(x, t_x, age)
    error = 4 * data["alive"].std() / math.sqrt(len(data))
    assert alive.mean() == pytest.approx(data["alive"].mean(), abs=error)
    predicted = model.expected_purchases(39, x, t_x, age)
    error = 4 * data["holdout"].std() / math.sqrt(len(data))
    assert predicted.mean() == pytest.approx(data["holdout"].mean(), abs=error)
    new = simulate(truth, 100_000, seed=6, ages=(39, 39), horizon=0)["frequency"]
    error = 4 * new.std() / math.sqrt(len(new))
    assert model.expected_purchases_new(39) == pytest.approx(new.mean(), abs=error)


# -- numbers at the edges --------------------------------------------------------------
@pytest.mark.parametrize("params", BRANCHES.values(), ids=BRANCHES.keys())
def test_stable_for_customers_with_thousands_of_orders(params: tuple[float, ...]):
    x = np.array([0, 300, 3000, 8000, 8000])
    t_x = np.array([0.0, 200.0, 399.0, 400.0, 1.0])
    age = np.full(5, 400.0)
    values = log_likelihoods(params, x, t_x, age)
    assert np.all(np.isfinite(values))
    model = ParetoNBDModel()
    model.params_ = dict(zip(NAMES, params, strict=True))
    alive = model.probability_alive(x, t_x, age)
    assert np.all((alive >= 0) & (alive <= 1))
    assert alive[4] < alive[3]  # the same orders, the last long ago
    expected = model.expected_purchases(52, x, t_x, age)
    assert np.all(np.isfinite(expected)) and np.all(expected >= 0)


def test_likelihood_finite_far_from_any_sensible_estimate(cdnow: pd.DataFrame):
    """Where an optimizer may wander: extreme ratios of alpha to beta, tiny and huge shapes."""
    rows = CustomerRows.of(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    for params in (
        (0.5, 1e6, 0.6, 1e-3),
        (0.5, 1e-3, 0.6, 1e6),
        (1e-4, 1e-4, 1e-4, 1e-4),
        (1e4, 1e4, 1e4, 1e4),
        (0.5, 10.0, 1e-5, 1e5),
    ):
        assert np.isfinite(rows.negative_log_likelihood(np.array(params))), params


def test_expected_purchases_continuous_at_s_equal_one():
    model = ParetoNBDModel()
    values = []
    for s in (1 - 1e-9, 1.0, 1 + 1e-9):
        model.params_ = {"r": 0.5, "alpha": 10.0, "s": s, "beta": 12.0}
        values.append(
            [model.expected_purchases(39, 3, 20.0, 38.0), model.expected_purchases_new(39)]
        )
    np.testing.assert_allclose(values[0], values[1], rtol=1e-8)
    np.testing.assert_allclose(values[2], values[1], rtol=1e-8)


def test_same_time_of_last_order_and_end_is_allowed():
    """T = t_x (an order on the last day, or a customer seen once at T = 0): no room to drop
    out between them, so the likelihood is the alive term alone."""
    params = (0.5, 10.0, 0.6, 12.0)
    r, alpha, s, beta = params
    x, age = np.array([0, 3]), np.array([0.0, 20.0])
    alive_only = (
        special.gammaln(r + x)
        - special.gammaln(r)
        + r * np.log(alpha)
        + s * np.log(beta)
        - (r + x) * np.log(alpha + age)
        - s * np.log(beta + age)
    )
    np.testing.assert_allclose(log_likelihoods(params, x, age, age), alive_only, atol=1e-12)


# -- data handling ---------------------------------------------------------------------
def test_weights_stand_for_repeated_rows(cdnow: pd.DataFrame, fitted: ParetoNBDModel):
    grouped = cdnow.groupby(["frequency", "recency", "T"], as_index=False).size()
    weighted = ParetoNBDModel().fit(
        grouped["frequency"], grouped["recency"], grouped["T"], weights=grouped["size"]
    )
    assert len(grouped) < len(cdnow)
    assert weighted.log_likelihood_ == pytest.approx(fitted.log_likelihood_, abs=1e-6)
    assert weighted.customers_ == len(cdnow)


def test_likelihood_sum_is_the_sum_over_customers(cdnow: pd.DataFrame):
    params = list(PUBLISHED.values())
    each = log_likelihoods(params, cdnow["frequency"], cdnow["recency"], cdnow["T"])
    total = negative_log_likelihood(params, cdnow["frequency"], cdnow["recency"], cdnow["T"])
    assert -each.sum() == pytest.approx(total, rel=1e-12)


def test_distinct_rows_match_numpy_unique():
    rng = np.random.default_rng(0)
    columns = rng.integers(0, 4, (3, 500)).astype(float)
    (a, b, c), index = distinct_rows(*columns)
    expected, expected_index = np.unique(columns.T, axis=0, return_inverse=True)
    np.testing.assert_array_equal(np.column_stack([a, b, c]), expected)
    np.testing.assert_array_equal(index, expected_index.ravel())


def test_saved_model_predicts_the_same(fitted: ParetoNBDModel, tmp_path: Path):
    fitted.save(tmp_path / "pareto_nbd.json")
    loaded = ParetoNBDModel.load(tmp_path / "pareto_nbd.json")
    assert loaded.params_ == fitted.params_
    assert loaded.log_likelihood_ == fitted.log_likelihood_
    args = ([0, 2, 9], [0.0, 30.43, 38.0], [38.86] * 3)
    np.testing.assert_array_equal(loaded.probability_alive(*args), fitted.probability_alive(*args))
    np.testing.assert_array_equal(
        loaded.expected_purchases(39, *args), fitted.expected_purchases(39, *args)
    )
    assert loaded.expected_purchases_new(52) == fitted.expected_purchases_new(52)
    assert loaded.summary().equals(fitted.summary())


def test_refuses_impossible_summaries():
    with pytest.raises(ValueError, match="recency"):
        ParetoNBDModel().fit([1], [5.0], [3.0])
    with pytest.raises(ValueError, match="whole numbers"):
        ParetoNBDModel().fit([1.5], [1.0], [3.0])
    with pytest.raises(ValueError, match="recency 0"):
        ParetoNBDModel().fit([0], [1.0], [3.0])
    with pytest.raises(ValueError, match="no customers"):
        ParetoNBDModel().fit([], [], [])
