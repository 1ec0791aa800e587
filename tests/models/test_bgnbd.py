"""BG/NBD against Fader, Hardie & Lee (2005) on CDNOW, and against its own definition."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

from segmint.models import base
from segmint.models.bgnbd import (
    BetaGeoModel,
    negative_log_likelihood,
    negative_log_likelihood_gradient,
)

PUBLISHED = {"r": 0.2425945, "alpha": 4.4136019, "a": 0.7929199, "b": 2.4258881}


@pytest.fixture(scope="module")
def cdnow(shared_data: Path) -> pd.DataFrame:
    return pd.read_csv(shared_data / "cdnow" / "cdnow_customers_summary.csv")


@pytest.fixture(scope="module")
def fitted(cdnow: pd.DataFrame) -> BetaGeoModel:
    return BetaGeoModel().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])


def test_cdnow_estimates_match_the_paper(fitted: BetaGeoModel):
    assert fitted.log_likelihood_ == pytest.approx(-9582.43, abs=0.1)
    for name, value in PUBLISHED.items():
        assert fitted.params_[name] == pytest.approx(value, rel=0.005), name
    assert fitted.converged_ and fitted.customers_ == 2357


def test_cdnow_conditional_expectation_matches_the_paper(fitted: BetaGeoModel):
    assert fitted.expected_purchases(39, 2, 30.43, 38.86) == pytest.approx(1.226, abs=0.001)


def test_a_fit_warmed_up_on_a_sample_finds_the_same_estimates(
    fitted: BetaGeoModel, cdnow: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
):
    """Large data first fits every k-th customer, then all of them from there: the warm-up
    only moves the start (here forced at CDNOW's size: 2,357 customers, a sample of ~340)."""
    samples: list[float] = []
    warm_start = base._warm_start

    def spied(sample: base.Objective, logs: np.ndarray):
        samples.append(sample.customers)
        return warm_start(sample, logs)

    monkeypatch.setattr(base, "WARM_UP_FROM", 1000)
    monkeypatch.setattr(base, "WARM_UP_ROWS", 300)
    monkeypatch.setattr(base, "_warm_start", spied)
    warm = BetaGeoModel().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    assert samples == [len(cdnow[:: len(cdnow) // 300])]
    assert warm.converged_ and warm.customers_ == 2357
    assert warm.log_likelihood_ == pytest.approx(fitted.log_likelihood_, abs=1e-6)
    for name, value in fitted.params_.items():
        assert warm.params_[name] == pytest.approx(value, rel=1e-4), name
        assert warm.standard_errors_[name] == pytest.approx(fitted.standard_errors_[name], 1e-3)


def test_standard_errors_come_from_the_curvature(fitted: BetaGeoModel, cdnow: pd.DataFrame):
    table = fitted.summary()
    assert list(table.index) == ["r", "alpha", "a", "b"]
    assert (table["standard_error"] > 0).all()
    # Moving r by one standard error costs about half a unit of log-likelihood (quadratic
    # approximation; the other parameters held, so at most that).
    params = np.array([fitted.params_[k] for k in ("r", "alpha", "a", "b")])
    moved = params.copy()
    moved[0] += fitted.standard_errors_["r"]
    loss = negative_log_likelihood(moved, cdnow["frequency"], cdnow["recency"], cdnow["T"])
    assert 0.5 <= loss + fitted.log_likelihood_ <= 5


@pytest.mark.parametrize(
    "params",
    [tuple(PUBLISHED.values()), (0.5, 2.0, 1.5, 4.0), (1.0, 10.0, 0.3, 0.8), (3.0, 0.5, 2.0, 0.6)],
)
def test_gradient_matches_central_differences(cdnow: pd.DataFrame, params):
    point = np.array(list(params), dtype=float)
    data = (cdnow["frequency"], cdnow["recency"], cdnow["T"])
    analytic = negative_log_likelihood_gradient(point, *data)
    numeric = np.empty(4)
    for i in range(4):
        step = np.zeros(4)
        step[i] = 1e-6 * point[i]
        up = negative_log_likelihood(point + step, *data)
        down = negative_log_likelihood(point - step, *data)
        numeric[i] = (up - down) / (2 * step[i])
    # Central differences of a sum of 2,357 terms near 1e4 are good to about 1e-3 here.
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-3)


def test_gradient_counts_weights_like_repeated_rows(cdnow: pd.DataFrame):
    grouped = cdnow.groupby(["frequency", "recency", "T"], as_index=False).size()
    point = np.array([0.5, 2.0, 1.5, 4.0])
    np.testing.assert_allclose(
        negative_log_likelihood_gradient(
            point, grouped["frequency"], grouped["recency"], grouped["T"], grouped["size"]
        ),
        negative_log_likelihood_gradient(point, cdnow["frequency"], cdnow["recency"], cdnow["T"]),
        rtol=1e-10,
    )


def test_expected_purchases_equals_the_integral_over_the_posterior(fitted: BetaGeoModel):
    """Equation 10 against its definition: given alive, lambda ~ Gamma(r+x, alpha+T) and
    p ~ Beta(a, b+x) a posteriori, and an alive customer orders (1 - exp(-lambda p t)) / p
    times in expectation; lambda is integrated in closed form, p numerically."""
    r, alpha, a, b = (fitted.params_[k] for k in ("r", "alpha", "a", "b"))
    for x, t_x, age, t in ((2, 30.43, 38.86, 39), (0, 0, 20, 10), (7, 35, 38.86, 52)):

        def integrand(p: float, x: float = x, age: float = age, t: float = t) -> float:
            waiting = ((alpha + age) / (alpha + age + p * t)) ** (r + x)
            return (1 - waiting) / p * stats.beta.pdf(p, a, b + x)

        alive = fitted.probability_alive(x, t_x, age)
        expected = alive * integrate.quad(integrand, 0, 1, limit=200)[0]
        assert fitted.expected_purchases(t, x, t_x, age) == pytest.approx(expected, rel=1e-6)


def test_expected_purchases_by_horizon_equals_one_horizon_at_a_time(
    fitted: BetaGeoModel, cdnow: pd.DataFrame
):
    data = (cdnow["frequency"], cdnow["recency"], cdnow["T"])
    horizons = [1.0, 4.35, 39.0, 52.0]
    rows = fitted.expected_purchases_by_horizon(horizons, *data)
    assert rows.shape == (4, len(cdnow))
    for row, t in zip(rows, horizons, strict=True):
        np.testing.assert_allclose(row, fitted.expected_purchases(t, *data), rtol=1e-13)
    one = fitted.expected_purchases_by_horizon([39.0], 2, 30.43, 38.86)
    assert one.shape == (1,) and one[0] == pytest.approx(1.226, abs=0.001)


def test_a_horizon_table_remembers_pairs_across_batches(fitted: BetaGeoModel, cdnow: pd.DataFrame):
    """Scoring batch after batch with one table gives what each batch alone gives; pairs
    seen in an earlier batch are taken from the table, not computed again."""
    data = cdnow[["frequency", "recency", "T"]].to_numpy(dtype=float)
    horizons = [12.86, 4.35, 8.7]
    table = fitted.horizon_table(horizons)
    for batch in (data[:1000], data[1000:], data[::7]):
        expected, alive = fitted.expected_purchases_and_alive(horizons, *batch.T, table)
        alone, alive_alone = fitted.expected_purchases_and_alive(horizons, *batch.T)
        np.testing.assert_array_equal(expected, alone)
        np.testing.assert_array_equal(alive, alive_alone)
    distinct = {(x, age) for x, age in data[:, [0, 2]]}
    assert len(table.pairs) == len(distinct) < len(data)
    assert np.all(np.diff(table.pairs.real) >= 0)
    with pytest.raises(ValueError, match="other horizons"):
        fitted.expected_purchases_and_alive([1.0], *data[:5].T, table)


def test_probability_alive_and_the_next_order(fitted: BetaGeoModel):
    alive = fitted.probability_alive([0, 2, 2], [0, 30.43, 5], [38.86] * 3)
    assert alive[0] == 1  # no repeat order: no chance to have dropped out yet
    assert alive[1] > alive[2]  # the same orders, the last one longer ago
    median = fitted.median_time_to_next_order(2, 30.43, 38.86)
    assert fitted.probability_no_order(median, 2, 30.43, 38.86) == pytest.approx(0.5)
    gone = fitted.median_time_to_next_order(20, 5, 38.86)
    assert math.isnan(gone)  # more likely gone than not: no date


def simulate(params: dict[str, float], customers: int, seed: int) -> pd.DataFrame:
    """Customers drawn from the BG/NBD story itself: order at rate lambda, drop out with
    probability p after each repeat order, observed for T after the first order."""
    rng = np.random.default_rng(seed)
    rates = rng.gamma(params["r"], 1 / params["alpha"], customers)
    dropouts = rng.beta(params["a"], params["b"], customers)
    ages = rng.uniform(30, 80, customers)
    rows = []
    for rate, dropout, age in zip(rates, dropouts, ages, strict=True):
        now, orders, last = 0.0, 0, 0.0
        while True:
            now += rng.exponential(1 / rate)
            if now > age:
                break
            orders, last = orders + 1, now
            if rng.random() < dropout:
                break
        rows.append((orders, last, age))
    return pd.DataFrame(rows, columns=["frequency", "recency", "T"])


def test_recovers_the_parameters_it_was_simulated_from():
    truth = {"r": 0.5, "alpha": 6.0, "a": 0.8, "b": 2.5}
    data = simulate(truth, 20_000, seed=7)
    model = BetaGeoModel().fit(data["frequency"], data["recency"], data["T"])
    for name, value in truth.items():
        error = model.standard_errors_[name]
        assert abs(model.params_[name] - value) < 4 * error, (name, model.params_[name], error)


def test_weights_stand_for_repeated_rows(cdnow: pd.DataFrame):
    grouped = cdnow.groupby(["frequency", "recency", "T"], as_index=False).size()
    weighted = BetaGeoModel().fit(
        grouped["frequency"], grouped["recency"], grouped["T"], weights=grouped["size"]
    )
    assert len(grouped) < len(cdnow)
    assert weighted.log_likelihood_ == pytest.approx(-9582.43, abs=0.1)
    assert weighted.customers_ == len(cdnow)


def test_stable_for_customers_with_thousands_of_orders(fitted: BetaGeoModel):
    x, t_x, age = np.array([3000, 5000]), np.array([399.0, 390.0]), np.array([400.0, 400.0])
    assert np.isfinite(negative_log_likelihood([0.24, 4.4, 0.79, 2.4], x, t_x, age))
    assert np.all(
        np.isfinite(negative_log_likelihood_gradient([0.24, 4.4, 0.79, 2.4], x, t_x, age))
    )
    assert np.all(np.isfinite(fitted.probability_alive(x, t_x, age)))
    expected = fitted.expected_purchases(10, x, t_x, age)
    assert np.all(np.isfinite(expected)) and np.all(expected > 0)


def test_saved_model_predicts_the_same(fitted: BetaGeoModel, tmp_path: Path):
    fitted.save(tmp_path / "bgnbd.json")
    loaded = BetaGeoModel.load(tmp_path / "bgnbd.json")
    assert loaded.params_ == fitted.params_
    args = ([1, 2, 9], [3.0, 30.43, 38], [38.86] * 3)
    np.testing.assert_array_equal(loaded.probability_alive(*args), fitted.probability_alive(*args))
    assert loaded.summary().equals(fitted.summary())


def test_refuses_impossible_summaries():
    with pytest.raises(ValueError, match="recency"):
        BetaGeoModel().fit([1], [5.0], [3.0])
    with pytest.raises(ValueError, match="whole numbers"):
        BetaGeoModel().fit([1.5], [1.0], [3.0])
