"""Behavioural clusters on synthetic customers with four planted groups."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from segmint.models.clusters import (
    BEHAVIOUR,
    ClusterModel,
    ClusterWords,
    Modifier,
    choose_k,
    fit_clusters,
    mean_silhouettes,
    nearest,
    slug,
    unique_names,
)

SIZES = {"weekly": 900, "high_aov": 700, "deals": 800, "lapsed": 800}
NON_BUYERS = 300


def planted_customers(seed: int = 7) -> pd.DataFrame:
    """Customers as ``customer_features`` has them: weekly low-AOV replenishers, high-AOV rare
    buyers, monthly discount hunters, lapsed one-timers, and customers without orders."""
    rng = np.random.default_rng(seed)
    parts = [
        _group(
            rng,
            "weekly",
            orders=(8, 40),
            gap=(7, 1.5),
            aov=25,
            recency=(1, 10),
            discount=(1, 12),
            categories=(1, 3),
            open_rate=0.45,
        ),
        _group(
            rng,
            "high_aov",
            orders=(2, 3),
            gap=(220, 60),
            aov=420,
            recency=(20, 200),
            discount=(1, 15),
            categories=(2, 6),
            open_rate=0.3,
        ),
        _group(
            rng,
            "deals",
            orders=(3, 9),
            gap=(30, 6),
            aov=55,
            recency=(5, 60),
            discount=(9, 2),
            categories=(2, 6),
            open_rate=0.7,
        ),
        _group(
            rng,
            "lapsed",
            orders=(1, 1),
            gap=(0, 0),
            aov=60,
            recency=(300, 720),
            discount=(1, 3),
            categories=(1, 2),
            open_rate=None,
        ),
    ]
    buyers = pd.concat(parts, ignore_index=True)
    none = pd.DataFrame(
        {
            "planted": "none",
            "number_of_orders": 0,
            "net_sales": 0.0,
            "distinct_categories": 0,
            "preferred_channel": pd.Series([None] * NON_BUYERS, dtype="str"),
        },
        index=range(NON_BUYERS),
    )
    frame = pd.concat([buyers, none], ignore_index=True)
    frame = frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    frame.insert(0, "customer_id", [f"c{i:05d}" for i in range(len(frame))])
    return frame


def _group(rng, label, orders, gap, aov, recency, discount, categories, open_rate):
    n = SIZES[label]
    count = rng.integers(orders[0], orders[1] + 1, n)
    days = np.maximum(rng.normal(gap[0], gap[1], n), 1.0)
    mean_gap = np.where(count > 1, days, np.nan)
    since_last = rng.integers(recency[0], recency[1] + 1, n)
    tenure = since_last + np.where(count > 1, np.round(mean_gap * (count - 1)), 0)
    order_value = np.round(aov * rng.lognormal(0.0, 0.3, n), 2)
    share = rng.binomial(count, rng.beta(*discount, n)) / count
    opened = (
        np.full(n, np.nan)
        if open_rate is None
        else rng.beta(10 * open_rate, 10 - 10 * open_rate, n)
    )
    opened = np.where(rng.random(n) < 0.2, np.nan, opened)  # no email in 90 days
    return pd.DataFrame(
        {
            "planted": label,
            "number_of_orders": count,
            "days_since_last_order": since_last.astype("float64"),
            "aov": order_value,
            "net_sales": np.round(order_value * count * 0.95, 2),
            "tenure_days": tenure.astype("float64"),
            "mean_days_between_orders": mean_gap,
            "discount_order_share": share,
            "distinct_categories": rng.integers(categories[0], categories[1] + 1, n),
            "preferred_channel": rng.choice(["web", "web", "web", "web", "pos", "app"], n),
            "email_open_rate_90d": opened,
        }
    )


@pytest.fixture(scope="module")
def customers() -> pd.DataFrame:
    return planted_customers()


@pytest.fixture(scope="module")
def model(customers) -> ClusterModel:
    return fit_clusters(customers, k_range=range(2, 7))


def planted_to_cluster(customers: pd.DataFrame, assigned: pd.Series) -> dict[str, str]:
    """The cluster most of each planted group went to."""
    buyers = customers["planted"] != "none"
    table = pd.crosstab(customers.loc[buyers, "planted"], assigned[buyers])
    return table.idxmax(axis=1).to_dict()


def test_silhouette_finds_the_planted_groups(customers, model):
    assert model.k == 4
    assert max(model.silhouettes, key=model.silhouettes.get) == 4
    assigned = model.assign(customers)
    mapping = planted_to_cluster(customers, assigned)
    assert len(set(mapping.values())) == 4
    buyers = customers["planted"] != "none"
    agree = (customers.loc[buyers, "planted"].map(mapping) == assigned[buyers]).mean()
    assert agree > 0.97


def test_names_describe_the_planted_groups(customers, model):
    mapping = planted_to_cluster(customers, model.assign(customers))
    names = dict(zip(model.ids, model.names, strict=True))
    by_group = {group: names[cluster] for group, cluster in mapping.items()}
    assert "weekly" in by_group["weekly"] and "Low-AOV" in by_group["weekly"]
    assert by_group["high_aov"].startswith("High-AOV")
    assert "deal" in by_group["deals"]
    assert "lapsed" in by_group["lapsed"].lower() and "one-timers" in by_group["lapsed"]
    assert len(set(model.names)) == model.k
    assert model.ids == [slug(name) for name in model.names]


def test_profiles_cover_every_customer_and_all_revenue(customers, model):
    profiles = model.profiles
    buyers = customers[customers["number_of_orders"] >= 1]
    assert list(profiles.index) == model.ids
    assert profiles["customers"].sum() == len(buyers) == model.customers
    assert profiles["customer_share"].sum() == pytest.approx(1.0)
    assert profiles["revenue_share"].sum() == pytest.approx(1.0)
    assert profiles["net_sales"].sum() == pytest.approx(buyers["net_sales"].sum())
    weekly = profiles.loc[planted_to_cluster(customers, model.assign(customers))["weekly"]]
    assert weekly["number_of_orders_vs_store"] > 2
    assert weekly["median_days_between_orders"] == pytest.approx(7, abs=1)


def test_profiling_the_fitted_customers_again_gives_the_fitted_profiles(customers, model):
    pd.testing.assert_frame_equal(model.profile(customers), model.profiles)


def test_customers_without_orders_get_no_cluster(customers, model):
    assigned = model.assign(customers)
    none = customers["number_of_orders"] == 0
    assert assigned[none].isna().all() and assigned[none].map(lambda v: v is None).all()
    assert assigned[~none].notna().all()
    assert set(assigned[~none]) == set(model.ids)


def test_json_round_trip_assigns_identically(customers, model, tmp_path):
    text = json.dumps(model.to_dict(), allow_nan=False)
    again = ClusterModel.from_dict(json.loads(text))
    pd.testing.assert_series_equal(again.assign(customers), model.assign(customers))
    assert again.names == model.names and again.silhouettes == model.silhouettes
    model.save(tmp_path / "clusters.json")
    loaded = ClusterModel.load(tmp_path / "clusters.json")
    assert loaded.profiles["customers"].tolist() == model.profiles["customers"].tolist()


def test_assigning_in_batches_equals_assigning_at_once(customers, model):
    batches = [model.assign(customers.iloc[i : i + 700]) for i in range(0, len(customers), 700)]
    pd.testing.assert_series_equal(pd.concat(batches), model.assign(customers))


def test_refit_on_slightly_changed_data_keeps_ids_names_and_members(customers, model):
    changed = perturbed(customers, share=0.01, seed=11)
    again = fit_clusters(changed, k_range=range(2, 7), previous=model)
    assert again.k == model.k
    assert dict(zip(again.ids, again.names, strict=True)) == dict(
        zip(model.ids, model.names, strict=True)
    )
    before = model.assign(customers)
    after = again.assign(changed).iloc[: len(customers)]
    buyers = before.notna()
    assert (before[buyers] == after[buyers]).mean() >= 0.99


def perturbed(customers: pd.DataFrame, share: float, seed: int) -> pd.DataFrame:
    """``customers`` with ``share`` of the buyers' orders, recency and AOV nudged, and as many
    new customers (copies of random buyers) appended."""
    rng = np.random.default_rng(seed)
    frame = customers.copy()
    buyers = np.flatnonzero(frame["number_of_orders"].to_numpy() >= 1)
    n = int(share * len(buyers))
    rows = rng.choice(buyers, n, replace=False)
    frame.loc[rows, "aov"] = frame.loc[rows, "aov"] * rng.uniform(0.8, 1.25, n)
    frame.loc[rows, "days_since_last_order"] = frame.loc[rows, "days_since_last_order"] + 3
    frame.loc[rows, "tenure_days"] = frame.loc[rows, "tenure_days"] + 3
    added = frame.iloc[rng.choice(buyers, n, replace=False)].copy()
    added["customer_id"] = [f"n{i:05d}" for i in range(n)]
    return pd.concat([frame, added], ignore_index=True)


def test_a_group_that_leaves_takes_its_id_and_the_others_keep_theirs(customers, model):
    mapping = planted_to_cluster(customers, model.assign(customers))
    without_weekly = customers[customers["planted"] != "weekly"]
    again = fit_clusters(without_weekly, k_range=range(2, 7), previous=model)
    assert again.k == 3
    assert set(again.ids) == set(model.ids) - {mapping["weekly"]}


def test_silhouettes_equal_scikit_learns(customers, model):
    from sklearn.metrics import silhouette_score

    points = model.scale.standardize(customers[customers["number_of_orders"] >= 1])[:1500]
    labelings = {k: np.arange(len(points)) % k for k in (2, 3)}
    labelings[4] = nearest(points, model.centroids)
    ours = mean_silhouettes(points, labelings, block=400)
    for k, labels in labelings.items():
        assert ours[k] == pytest.approx(silhouette_score(points, labels), abs=1e-9)


def test_equal_names_are_told_apart():
    strong = [Modifier(1.2, "lapsed"), Modifier(0.4, "multi-category")]
    weak = [Modifier(1.1, "lapsed"), Modifier(0.3, "full-price")]
    words = [
        ClusterWords("Low-AOV", None, "one-timers", strong),
        ClusterWords("Low-AOV", None, "one-timers", weak),
        ClusterWords("Low-AOV", None, "one-timers", weak),
    ]
    names = unique_names(words, taken=["Low-AOV lapsed multi-category one-timers"])
    assert names[0] != "Low-AOV lapsed multi-category one-timers"
    assert len({slug(n) for n in names}) == 3
    assert all(n.startswith("Low-AOV lapsed") for n in names)


def test_given_k_is_honoured(customers):
    model = fit_clusters(customers, k=6)
    assert model.k == 6 and len(model.ids) == len(set(model.ids)) == 6
    assert model.silhouettes == {}
    assert model.assign(customers).dropna().nunique() == 6


def test_previous_k_stays_while_its_silhouette_is_close():
    scores = {2: 0.40, 3: 0.52, 4: 0.51}
    assert choose_k(scores, previous_k=4, margin=0.02) == 4
    assert choose_k(scores, previous_k=2, margin=0.02) == 3
    assert choose_k(scores, previous_k=None, margin=0.02) == 3


def test_missing_columns_are_named(customers):
    from segmint.errors import SegmintError

    with pytest.raises(SegmintError, match="aov"):
        fit_clusters(customers.drop(columns=["aov"]))
    assert "aov" in BEHAVIOUR


def test_too_few_different_customers_is_an_error_not_a_warning(customers):
    from segmint.errors import SegmintError

    few = customers[customers["number_of_orders"] >= 1].head(3)
    with pytest.raises(SegmintError, match="too few different customers"):
        fit_clusters(few, k=4)
    assert fit_clusters(few).k == 2
    with pytest.raises(SegmintError, match="no customer with orders"):
        fit_clusters(customers[customers["number_of_orders"] == 0])
