"""Gamma-Gamma spend model: published CDNOW values, numerical integration, simulation."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

from segmint.errors import SegmintError
from segmint.models.base import NotFittedError
from segmint.models.gammagamma import GammaGammaModel, SpendData, negative_log_likelihood

PUBLISHED = {"p": 6.2488, "q": 3.7446, "gamma": 15.4477}
PUBLISHED_LOG_LIKELIHOOD = -4055.92


@pytest.fixture
def cdnow(shared_data: Path) -> pd.DataFrame:
    return pd.read_csv(shared_data / "cdnow" / "cdnow_customers_summary_with_transactions.csv")


@pytest.fixture
def cdnow_model(cdnow: pd.DataFrame) -> GammaGammaModel:
    return GammaGammaModel().fit(cdnow["x"], cdnow["zbar"])


def fitted(p: float, q: float, gamma: float) -> GammaGammaModel:
    return GammaGammaModel.from_dict(
        {"model": "gamma_gamma", "params": {"p": p, "q": q, "gamma": gamma}}
    )


def simulate(
    p: float, q: float, gamma: float, customers: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Repeat counts 0..~40 and the mean of that many Gamma(p, nu) spends, nu ~ Gamma(q, gamma)."""
    rng = np.random.default_rng(seed)
    x = rng.negative_binomial(0.8, 0.15, customers).astype(float)
    nu = rng.gamma(q, 1 / gamma, customers)
    shape = np.maximum(p * x, 1e-9)
    zbar = np.where(x > 0, rng.gamma(shape, 1 / (np.maximum(x, 1) * nu)), 0.0)
    return x, zbar


def posterior_mean_spend(p: float, q: float, gamma: float, x: float, zbar: float) -> float:
    """E[p / nu | x, zbar] by integrating prior x likelihood over nu with scipy."""
    log_mode = math.log((p * x + q - 1) / (gamma + x * zbar))

    def unnormalized(nu: float) -> float:
        prior = stats.gamma.logpdf(nu, q, scale=1 / gamma)
        likelihood = stats.gamma.logpdf(zbar, p * x, scale=1 / (x * nu))
        reference = stats.gamma.logpdf(math.exp(log_mode), q, scale=1 / gamma)
        return math.exp(prior + likelihood - reference)

    mode = math.exp(log_mode)
    points = [mode / 2, mode, 2 * mode]
    mass = integrate.quad(unnormalized, 0, 20 * mode, points=points, limit=200)[0]
    mean = integrate.quad(lambda nu: p / nu * unnormalized(nu), 0, 20 * mode, points=points)[0]
    return mean / mass


# -- published CDNOW values ---------------------------------------------------------------
@pytest.mark.shared_data
def test_cdnow_parameters_and_log_likelihood_match_fader_hardie(cdnow_model: GammaGammaModel):
    for name, value in PUBLISHED.items():
        assert cdnow_model.params_[name] == pytest.approx(value, rel=0.002), name
    assert cdnow_model.log_likelihood_ == pytest.approx(PUBLISHED_LOG_LIKELIHOOD, abs=0.01)
    assert cdnow_model.customers_ == 946
    assert cdnow_model.excluded_no_repeat_ == 2357 - 946
    assert cdnow_model.excluded_nonpositive_ == 0
    assert cdnow_model.converged_
    assert all(math.isfinite(e) and e > 0 for e in cdnow_model.standard_errors_.values())


@pytest.mark.shared_data
def test_cdnow_mean_spend_without_repeat_purchases(cdnow_model: GammaGammaModel):
    assert round(cdnow_model.population_mean_spend(), 2) == 35.17
    assert round(float(cdnow_model.expected_spend([0], [0.0])[0]), 2) == 35.17


@pytest.mark.shared_data
def test_log_likelihood_convention_keeps_every_constant(cdnow: pd.DataFrame):
    params = np.array(list(PUBLISHED.values()))
    value = negative_log_likelihood(params, cdnow["x"], cdnow["zbar"])
    assert -value == pytest.approx(PUBLISHED_LOG_LIKELIHOOD, abs=0.01)


# -- independent checks ---------------------------------------------------------------------
@pytest.mark.shared_data
def test_expected_spend_equals_integrated_posterior(cdnow_model: GammaGammaModel):
    p, q, gamma = cdnow_model.params_.values()
    customers = [(2.0, 22.35), (1.0, 11.77), (29.0, 26.26)]  # IDs 1, 2, 157
    x, zbar = np.array(customers).T
    predicted = cdnow_model.expected_spend(x, zbar)
    for (xi, zi), value in zip(customers, predicted, strict=True):
        assert value == pytest.approx(posterior_mean_spend(p, q, gamma, xi, zi), rel=1e-7)


def test_log_likelihood_equals_integrated_marginal_density():
    params = np.array([6.2488, 3.7446, 15.4477])
    p, q, gamma = params
    for x, zbar in [(1.0, 11.77), (3.0, 40.0), (25.0, 18.5)]:

        def joint(nu: float, x: float = x, zbar: float = zbar) -> float:
            density = stats.gamma.pdf(nu, q, scale=1 / gamma)
            return density * stats.gamma.pdf(zbar, p * x, scale=1 / (x * nu))

        mode = (p * x + q - 1) / (gamma + x * zbar)
        marginal = integrate.quad(joint, 0, 30 * mode, points=[mode], limit=200)[0]
        assert -negative_log_likelihood(params, [x], [zbar]) == pytest.approx(
            math.log(marginal), abs=1e-7
        )


def test_fit_recovers_simulated_parameters():
    truth = {"p": 6.0, "q": 4.0, "gamma": 15.0}
    x, zbar = simulate(*truth.values(), customers=10_000, seed=7)
    model = GammaGammaModel().fit(x, zbar)
    for name, value in truth.items():
        estimate, error = model.params_[name], model.standard_errors_[name]
        assert abs(estimate - value) < 4 * error, (name, estimate, error)
        assert estimate == pytest.approx(value, rel=0.1), name
    assert model.excluded_no_repeat_ == np.sum(x == 0)
    assert model.converged_


def test_weights_equal_repeated_rows():
    x, zbar = simulate(6.0, 4.0, 15.0, customers=2_000, seed=3)
    weights = np.arange(len(x)) % 3 + 1.0
    weighted = GammaGammaModel().fit(x, zbar, weights=weights)
    counts = weights.astype(int)
    repeated = GammaGammaModel().fit(np.repeat(x, counts), np.repeat(zbar, counts))
    assert weighted.log_likelihood_ == pytest.approx(repeated.log_likelihood_, rel=1e-10)
    for name in GammaGammaModel.PARAMETERS:
        assert weighted.params_[name] == pytest.approx(repeated.params_[name], rel=1e-5)
    assert weighted.customers_ == repeated.customers_


def test_stable_for_very_large_frequencies():
    params = np.array([6.0, 4.0, 15.0])
    value = negative_log_likelihood(params, [5_000.0, 20_000.0], [30.0, 12.5])
    assert math.isfinite(value)
    model = fitted(*params)
    spend = model.expected_spend([20_000.0], [12.5])[0]
    assert spend == pytest.approx(12.5, rel=1e-3)


# -- exclusions, files, errors --------------------------------------------------------------
def test_nonpositive_spends_are_left_out_and_counted():
    x, zbar = simulate(6.0, 4.0, 15.0, customers=3_000, seed=11)
    kept = GammaGammaModel().fit(x[zbar > 0], zbar[zbar > 0])
    x_all = np.r_[x, 2.0, 1.0, 3.0, 0.0]
    zbar_all = np.r_[zbar, 0.0, -12.0, -0.5, 0.0]
    weights = np.r_[np.ones(len(x)), 2.0, 1.0, 4.0, 5.0]
    model = GammaGammaModel().fit(x_all, zbar_all, weights=weights)
    assert model.excluded_nonpositive_ == 7.0
    assert model.excluded_no_repeat_ == np.sum(x == 0) + 5.0
    assert model.customers_ == kept.customers_
    assert model.log_likelihood_ == pytest.approx(kept.log_likelihood_, rel=1e-10)
    excluded = {"no_repeat": model.excluded_no_repeat_, "nonpositive_spend": 7.0}
    assert model.to_dict()["excluded"] == excluded
    assert model.expected_spend([3.0], [-0.5])[0] == pytest.approx(model.population_mean_spend())


def test_save_and_load_round_trip(tmp_path: Path):
    x, zbar = simulate(6.0, 4.0, 15.0, customers=3_000, seed=5)
    zbar[:10] = -1.0
    model = GammaGammaModel(time_unit="day").fit(x, zbar)
    model.save(tmp_path / "gg.json")
    loaded = GammaGammaModel.load(tmp_path / "gg.json")
    assert loaded.params_ == model.params_
    assert loaded.standard_errors_ == model.standard_errors_
    assert loaded.log_likelihood_ == model.log_likelihood_
    assert loaded.time_unit == "day"
    assert loaded.excluded_no_repeat_ == model.excluded_no_repeat_
    assert loaded.excluded_nonpositive_ == model.excluded_nonpositive_ > 0
    np.testing.assert_array_equal(loaded.expected_spend(x, zbar), model.expected_spend(x, zbar))
    assert loaded.summary().equals(model.summary())


def test_model_saved_without_exclusions_loads_with_unknown_counts():
    model = fitted(p=6.0, q=4.0, gamma=15.0)
    assert math.isnan(model.excluded_no_repeat_)
    assert model.to_dict()["excluded"] == {"no_repeat": None, "nonpositive_spend": None}


def test_infinite_population_mean_when_q_at_most_one():
    model = fitted(p=2.0, q=0.8, gamma=10.0)
    assert not model.has_finite_mean
    assert model.population_mean_spend() == math.inf
    spend = model.expected_spend([0.0, 1.0, 4.0], [0.0, 20.0, 20.0])
    assert spend[0] == math.inf
    assert spend[1:] == pytest.approx([2.0 * 30.0 / 1.8, 2.0 * 90.0 / 7.8])


def test_bad_inputs_are_refused():
    with pytest.raises(SegmintError, match="differ in length"):
        GammaGammaModel().fit([1, 2], [3.0])
    with pytest.raises(SegmintError, match="negative"):
        GammaGammaModel().fit([-1, 2], [3.0, 4.0])
    with pytest.raises(SegmintError, match="finite"):
        GammaGammaModel().fit([1, 2], [np.nan, 4.0])
    with pytest.raises(SegmintError, match="no customer to fit"):
        GammaGammaModel().fit([0, 2], [5.0, 0.0])
    with pytest.raises(NotFittedError):
        GammaGammaModel().expected_spend([1], [1.0])
    with pytest.raises(SegmintError, match="not a gamma_gamma model"):
        GammaGammaModel.from_dict({"model": "bg_nbd", "params": {}})


def test_gradient_matches_finite_differences():
    x, zbar = simulate(6.0, 4.0, 15.0, customers=2_000, seed=13)
    kept = (x > 0) & (zbar > 0)
    data = SpendData.build(x[kept], zbar[kept], np.ones(kept.sum()))
    for params in ([6.0, 4.0, 15.0], [1.5, 0.8, 40.0]):
        point = np.array(params)
        nll = data.negative_log_likelihood
        steps = np.diag(1e-5 * point)
        numerical = [(nll(point + h) - nll(point - h)) / (2 * h.sum()) for h in steps]
        np.testing.assert_allclose(data.gradient(point), numerical, rtol=1e-6)
