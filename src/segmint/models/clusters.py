"""Behavioural clusters: k-means on customer features, with generated names that stay stable.

Only customers with at least one counted order are clustered. Each is described by nine
behavioural dimensions taken from ``customer_features`` (:data:`DIMENSIONS`): orders, days
since the last order, AOV, tenure, days between orders, discount share, category breadth,
whether the preferred channel is the store's main channel, and email open rate. Counts, days
and money are ``log1p``-transformed (their spread is multiplicative); then every dimension is
standardized with the mean and standard deviation of the fitted population (kept in the
model) and clipped to +-5 standard deviations, so a handful of extreme customers cannot take
a cluster of their own.

Missing values: a one-order customer has no ``mean_days_between_orders``; their gap so far,
``tenure_days`` (a lower bound of their next gap), stands in. A missing discount share counts
as 0, a missing preferred channel as not the main channel, a missing email open rate (no email
received in 90 days) as the store's median; open rates are capped at 1. Anything else missing
counts as the store average (0 after standardizing).

k is chosen by the mean silhouette score on a sample, unless given. Samples are the customers
whose hashed ``customer_id`` is smallest, so a refresh samples nearly the same customers.
Centroids are fitted on a sample of at most ``sample_size`` customers (scikit-learn KMeans,
k-means++, fixed ``random_state``); every customer is then assigned to the nearest centroid,
batch by batch. Each cluster is named from its most distinctive features (see
:func:`cluster_words`); the id is the name as a slug.

Stability against ``previous``: its k is kept unless another k's silhouette beats it by more
than ``k_margin``; with the same k, k-means starts from the previous centroids and a fresh
k-means++ solution replaces that one only when its inertia is lower by more than
``refit_margin``. New and previous centroids are then matched (Hungarian assignment on their
distance in the previous model's standardized space); a new cluster within ``max_shift`` of
its match keeps the previous id and name.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, Self

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans
from threadpoolctl import threadpool_limits

from segmint.errors import SegmintError

#: Name written in saved files.
NAME = "behaviour_clusters"
#: Standardized values are clipped to this many standard deviations.
CLIP = 5.0
#: Revenue column of the profiles.
REVENUE = "net_sales"


class Dimension(NamedTuple):
    """One column of the matrix k-means sees."""

    name: str
    source: str
    log: bool


DIMENSIONS = (
    Dimension("number_of_orders", "number_of_orders", True),
    Dimension("days_since_last_order", "days_since_last_order", True),
    Dimension("aov", "aov", True),
    Dimension("tenure_days", "tenure_days", True),
    Dimension("days_between_orders", "mean_days_between_orders", True),
    Dimension("discount_order_share", "discount_order_share", False),
    Dimension("distinct_categories", "distinct_categories", True),
    Dimension("main_channel", "preferred_channel", False),
    Dimension("email_open_rate_90d", "email_open_rate_90d", False),
)
#: The customer features clustering reads (``customer_features`` columns).
BEHAVIOUR = tuple(dict.fromkeys(d.source for d in DIMENSIONS))
_INDEX = {d.name: i for i, d in enumerate(DIMENSIONS)}


# -- the transform ------------------------------------------------------------------------
@dataclass(frozen=True)
class BehaviourScale:
    """How features become standardized dimensions: fill values, means and deviations."""

    main_channel: str | None
    open_rate_fill: float
    means: tuple[float, ...]
    stds: tuple[float, ...]

    @classmethod
    def learn(cls, buyers: pd.DataFrame) -> tuple[Self, np.ndarray]:
        """The scale of ``buyers`` (customers with orders), and their standardized matrix."""
        channels = buyers["preferred_channel"].dropna()
        main = str(channels.value_counts().index[0]) if len(channels) else None
        open_rates = _numbers(buyers["email_open_rate_90d"]).clip(upper=1.0).dropna()
        fill = float(open_rates.median()) if len(open_rates) else 0.0
        logged = logged_matrix(buyers, main, fill)
        means = np.nanmean(logged, axis=0)
        stds = np.nanstd(logged, axis=0)
        stds = np.where(np.isfinite(stds) & (stds > 1e-12), stds, 1.0)
        means = np.where(np.isfinite(means), means, 0.0)
        scale = cls(main, fill, tuple(map(float, means)), tuple(map(float, stds)))
        return scale, scale._standardized(logged)

    def standardize(self, buyers: pd.DataFrame) -> np.ndarray:
        """The standardized matrix of ``buyers``: one row each, one column per dimension."""
        return self._standardized(logged_matrix(buyers, self.main_channel, self.open_rate_fill))

    def _standardized(self, logged: np.ndarray) -> np.ndarray:
        z = self.from_logged(logged)
        return np.clip(np.nan_to_num(z, nan=0.0), -CLIP, CLIP)

    def to_logged(self, z: np.ndarray) -> np.ndarray:
        """Standardized points back to the log-transformed scale."""
        return np.asarray(z) * self.stds + self.means

    def from_logged(self, logged: np.ndarray) -> np.ndarray:
        return (np.asarray(logged) - self.means) / self.stds


def logged_matrix(
    buyers: pd.DataFrame, main_channel: str | None, open_rate_fill: float
) -> np.ndarray:
    """The dimensions of ``buyers`` before standardizing: with the documented fills (NaN
    where a value is still missing), ``log1p`` of the logged ones."""
    tenure = _numbers(buyers["tenure_days"])
    columns = {
        "number_of_orders": _numbers(buyers["number_of_orders"]),
        "days_since_last_order": _numbers(buyers["days_since_last_order"]),
        "aov": _numbers(buyers["aov"]).clip(lower=0.0),
        "tenure_days": tenure,
        "days_between_orders": _numbers(buyers["mean_days_between_orders"]).fillna(tenure),
        "discount_order_share": _numbers(buyers["discount_order_share"]).fillna(0.0),
        "distinct_categories": _numbers(buyers["distinct_categories"]).fillna(0.0),
        "main_channel": (buyers["preferred_channel"] == main_channel)
        .fillna(False)
        .astype("float64"),
        "email_open_rate_90d": _numbers(buyers["email_open_rate_90d"])
        .clip(upper=1.0)
        .fillna(open_rate_fill),
    }
    matrix = np.empty((len(buyers), len(DIMENSIONS)))
    for i, dimension in enumerate(DIMENSIONS):
        values = columns[dimension.name].to_numpy(dtype="float64")
        matrix[:, i] = np.log1p(np.maximum(values, 0.0)) if dimension.log else values
    return matrix


def _numbers(column: pd.Series) -> pd.Series:
    """A feature column as float64 (money columns arrive as Decimal objects)."""
    return pd.to_numeric(column, errors="coerce").astype("float64")


def buyers_mask(features: pd.DataFrame) -> np.ndarray:
    """Which customers are clustered: those with at least one counted order."""
    return (_numbers(features["number_of_orders"]).fillna(0) >= 1).to_numpy()


def check_columns(features: pd.DataFrame, needed: Sequence[str] = BEHAVIOUR) -> None:
    missing = [name for name in needed if name not in features.columns]
    if missing:
        raise SegmintError(
            f"clustering needs the customer features {', '.join(missing)}",
            hint="pass the columns of segmint.models.clusters.BEHAVIOUR from customer_features",
        )


# -- the model ----------------------------------------------------------------------------
@dataclass
class ClusterModel:
    """Fitted clusters: the scale, centroids (standardized), and each cluster's id and name.

    ``profiles`` has one row per cluster (index: id) from the customers it was fitted on;
    ``silhouettes`` the mean silhouette of every k tried (empty when k was given).
    """

    k: int
    scale: BehaviourScale
    centroids: np.ndarray
    ids: list[str]
    names: list[str]
    silhouettes: dict[int, float]
    profiles: pd.DataFrame
    customers: int
    random_state: int = 0

    def labels(self, features: pd.DataFrame) -> np.ndarray:
        """Index of the nearest centroid for every customer; -1 for customers without orders."""
        check_columns(features)
        mask = buyers_mask(features)
        labels = np.full(len(features), -1, dtype=np.int64)
        if mask.any():
            labels[mask] = nearest(self.scale.standardize(features[mask]), self.centroids)
        return labels

    def assign(self, features: pd.DataFrame) -> pd.Series:
        """The cluster id of every customer of ``features`` (any batch of them), None for
        customers without orders; aligned with ``features``' index."""
        labels = self.labels(features)
        ids = np.array([*self.ids, None], dtype=object)  # label -1 picks the None
        return pd.Series(ids[labels], index=features.index, dtype=object, name="cluster")

    def profile(self, features: pd.DataFrame) -> pd.DataFrame:
        """Profiles (as :attr:`profiles`) of the customers of ``features`` assigned to these
        clusters, e.g. after a refresh; needs ``net_sales`` too."""
        check_columns(features, (*BEHAVIOUR, REVENUE))
        labels = self.labels(features)
        buyers = labels >= 0
        profiles = cluster_profiles(features[buyers], labels[buyers], self.k, self.scale)
        return _named(profiles, self.ids, self.names)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe description: enough to assign customers again and show the profiles."""
        return {
            "model": NAME,
            "k": self.k,
            "dimensions": [d.name for d in DIMENSIONS],
            "scale": {
                "main_channel": self.scale.main_channel,
                "open_rate_fill": self.scale.open_rate_fill,
                "means": list(self.scale.means),
                "stds": list(self.scale.stds),
            },
            "centroids": [[float(v) for v in row] for row in self.centroids],
            "clusters": [{"id": i, "name": n} for i, n in zip(self.ids, self.names, strict=True)],
            "silhouettes": {str(k): float(v) for k, v in self.silhouettes.items()},
            "profiles": _json_records(self.profiles.reset_index()),
            "customers": self.customers,
            "random_state": self.random_state,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        if data.get("model") != NAME:
            raise SegmintError(f"not a {NAME} model: {data.get('model')!r}")
        if data.get("dimensions") != [d.name for d in DIMENSIONS]:
            raise SegmintError("the saved clusters use other dimensions", hint="fit them again")
        scale = data["scale"]
        profiles = pd.DataFrame(data.get("profiles") or [])
        return cls(
            k=int(data["k"]),
            scale=BehaviourScale(
                scale["main_channel"],
                float(scale["open_rate_fill"]),
                tuple(map(float, scale["means"])),
                tuple(map(float, scale["stds"])),
            ),
            centroids=np.array(data["centroids"], dtype="float64"),
            ids=[c["id"] for c in data["clusters"]],
            names=[c["name"] for c in data["clusters"]],
            silhouettes={int(k): float(v) for k, v in data.get("silhouettes", {}).items()},
            profiles=profiles.set_index("id") if "id" in profiles else profiles,
            customers=int(data.get("customers", 0)),
            random_state=int(data.get("random_state", 0)),
        )

    def save(self, path: Path | str) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path | str) -> Self:
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


def nearest(points: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Index of the closest centroid (Euclidean) of each point."""
    distances = np.column_stack([((points - c) ** 2).sum(axis=1) for c in centroids])
    return distances.argmin(axis=1)


# -- fitting ------------------------------------------------------------------------------
def fit_clusters(
    features: pd.DataFrame,
    k: int | None = None,
    k_range: range | Sequence[int] = range(2, 9),
    previous: ClusterModel | None = None,
    sample_size: int = 20_000,
    silhouette_size: int = 5_000,
    random_state: int = 0,
    k_margin: float = 0.02,
    refit_margin: float = 0.02,
    max_shift: float = 1.0,
) -> ClusterModel:
    """Clusters of the customers with orders in ``features`` (``customer_features`` rows with
    the :data:`BEHAVIOUR` columns, plus ``net_sales`` and ideally ``customer_id``)."""
    check_columns(features, (*BEHAVIOUR, REVENUE))
    buyers = features[buyers_mask(features)]
    if not len(buyers):
        raise SegmintError("no customer with orders to cluster")
    scale, points = BehaviourScale.learn(buyers)
    order = stable_order(buyers, random_state)
    sample = points[order[:sample_size]]
    candidates = _candidate_ks(k, k_range, distinct=len(np.unique(sample, axis=0)))
    warm = _warm_start(previous, scale)
    # One thread: on samples this small, OpenMP/BLAS threads cost more than they save,
    # and far more on a busy machine.
    with threadpool_limits(limits=1):
        solutions = {c: _kmeans(sample, c, warm, random_state, refit_margin) for c in candidates}
        silhouettes = {}
        if k is None:
            probe = points[order[: min(silhouette_size, sample_size)]]
            silhouettes = mean_silhouettes(
                probe, {c: nearest(probe, s.cluster_centers_) for c, s in solutions.items()}
            )
            k = choose_k(silhouettes, previous.k if previous else None, k_margin)
    centroids = solutions[k].cluster_centers_
    labels = nearest(points, centroids)
    profiles = cluster_profiles(buyers, labels, k, scale)
    ids, names = _identities(centroids, profiles, scale, previous, max_shift)
    profiles = _named(profiles, ids, names)
    return ClusterModel(
        k, scale, centroids, ids, names, silhouettes, profiles, len(buyers), random_state
    )


def _named(profiles: pd.DataFrame, ids: list[str], names: list[str]) -> pd.DataFrame:
    named = profiles.set_axis(pd.Index(ids, name="id"))
    named.insert(0, "name", names)
    return named


def _candidate_ks(k: int | None, k_range: Sequence[int], distinct: int) -> list[int]:
    """The k to try: the given one, else those of ``k_range`` from 2 up to the number of
    distinct customers in the sample (k-means cannot fill more clusters)."""
    wanted = [k] if k is not None else sorted(c for c in set(k_range) if c >= 2)
    usable = [c for c in wanted if 1 <= c <= distinct]
    if not usable:
        raise SegmintError(
            f"too few different customers with orders for {min(wanted, default=k)} clusters: "
            f"{distinct}",
            hint="give a smaller k or k range",
        )
    return usable


def stable_order(buyers: pd.DataFrame, random_state: int = 0) -> np.ndarray:
    """Positions of ``buyers`` sorted by a hash of their ``customer_id`` (else their index):
    taking the first n gives a sample that barely changes when a few customers come or go."""
    keys = buyers["customer_id"] if "customer_id" in buyers else buyers.index.to_series()
    hashes = pd.util.hash_pandas_object(
        keys.astype("str"), index=False, hash_key=f"{random_state:016d}"[-16:]
    )
    return np.argsort(hashes.to_numpy(), kind="stable")


def choose_k(silhouettes: Mapping[int, float], previous_k: int | None, margin: float) -> int:
    """The k with the best silhouette; the previous k while it is within ``margin`` of it."""
    best = max(silhouettes, key=lambda c: (silhouettes[c], -c))
    if previous_k in silhouettes and silhouettes[previous_k] >= silhouettes[best] - margin:
        return previous_k
    return best


def _kmeans(
    sample: np.ndarray, k: int, warm: np.ndarray | None, random_state: int, refit_margin: float
) -> KMeans:
    fresh = KMeans(k, n_init=10, random_state=random_state).fit(sample)
    if warm is None or len(warm) != k:
        return fresh
    kept = KMeans(k, init=warm, n_init=1, random_state=random_state).fit(sample)
    return fresh if fresh.inertia_ < kept.inertia_ * (1 - refit_margin) else kept


def _warm_start(previous: ClusterModel | None, scale: BehaviourScale) -> np.ndarray | None:
    """The previous centroids in the new standardized space."""
    if previous is None:
        return None
    return scale.from_logged(previous.scale.to_logged(previous.centroids))


def mean_silhouettes(
    points: np.ndarray, labelings: Mapping[int, np.ndarray], block: int = 1_000
) -> dict[int, float]:
    """The mean silhouette (Euclidean) of each labeling of the same ``points``, computing
    the pairwise distances once, ``block`` rows at a time (memory: ``block`` x n)."""
    n = len(points)
    squares = (points**2).sum(axis=1)
    members = {k: np.eye(k)[labels] for k, labels in labelings.items()}
    sums = {k: np.empty((n, k)) for k in labelings}
    for start in range(0, n, block):
        rows = slice(start, start + block)
        squared = squares[rows, None] + squares[None, :] - 2.0 * points[rows] @ points.T
        distances = np.sqrt(np.maximum(squared, 0.0))
        for k, member in members.items():
            sums[k][rows] = distances @ member
    return {k: _mean_silhouette(sums[k], labelings[k], members[k].sum(axis=0)) for k in labelings}


def _mean_silhouette(sums: np.ndarray, labels: np.ndarray, sizes: np.ndarray) -> float:
    """Silhouette from each point's summed distance to every cluster; 0 for a point alone
    in its cluster (scikit-learn's convention), -1 when fewer than two clusters are used."""
    if (sizes > 0).sum() < 2:
        return -1.0
    rows = np.arange(len(labels))
    own_size = sizes[labels]
    inside = sums[rows, labels] / np.maximum(own_size - 1, 1)
    others = np.where(sizes > 0, sums / np.maximum(sizes, 1), np.inf)
    others[rows, labels] = np.inf
    nearest_other = others.min(axis=1)
    widest = np.maximum(inside, nearest_other)
    scores = np.where((own_size > 1) & (widest > 0), (nearest_other - inside) / widest, 0.0)
    return float(scores.mean())


# -- profiles -----------------------------------------------------------------------------
#: Profile columns: the mean of each, in real units, and its ratio to the store mean.
PROFILED = (
    "number_of_orders",
    "days_since_last_order",
    "aov",
    "tenure_days",
    "mean_days_between_orders",
    "discount_order_share",
    "distinct_categories",
    "main_channel_share",
    "email_open_rate_90d",
)


def cluster_profiles(
    buyers: pd.DataFrame, labels: np.ndarray, k: int, scale: BehaviourScale
) -> pd.DataFrame:
    """One row per cluster (0..k-1): size and revenue with their shares, the share of repeat
    buyers, the median days between orders of those, the most common preferred channel, and
    the mean of each feature of :data:`PROFILED` with its ratio to the store mean
    (``<feature>_vs_store``)."""
    values = pd.DataFrame(
        {name: _numbers(buyers[name]) for name in PROFILED if name in buyers.columns},
        index=buyers.index,
    )
    values["main_channel_share"] = (
        (buyers["preferred_channel"] == scale.main_channel).fillna(False).astype("float64")
    )
    values["email_open_rate_90d"] = values["email_open_rate_90d"].clip(upper=1.0)
    values[REVENUE] = _numbers(buyers[REVENUE]).fillna(0.0)
    values["_repeat"] = (values["number_of_orders"] > 1).astype("float64")
    values["_channel"] = buyers["preferred_channel"]
    values["_cluster"] = labels
    groups = values.groupby("_cluster")
    revenue_total = values[REVENUE].sum()
    profile = pd.DataFrame(index=pd.RangeIndex(k, name="cluster"))
    profile["customers"] = groups.size().reindex(profile.index, fill_value=0)
    profile["customer_share"] = profile["customers"] / len(values)
    profile[REVENUE] = groups[REVENUE].sum().reindex(profile.index, fill_value=0.0)
    profile["revenue_share"] = profile[REVENUE] / revenue_total if revenue_total else math.nan
    profile["repeat_share"] = groups["_repeat"].mean()
    profile["median_days_between_orders"] = groups["mean_days_between_orders"].median()
    profile["top_channel"] = groups["_channel"].agg(_mode)
    store = values[list(PROFILED)].mean()
    means = groups[list(PROFILED)].mean().reindex(profile.index)
    for name in PROFILED:
        profile[name] = means[name]
        profile[f"{name}_vs_store"] = means[name] / store[name] if store[name] else math.nan
    return profile


def _mode(values: pd.Series) -> str | None:
    counts = values.dropna().value_counts()
    return None if counts.empty else str(counts.index[0])


# -- names --------------------------------------------------------------------------------
#: |z| from which a feature describes a cluster; weaker words only separate equal names.
STRONG = 0.75
WEAK = 0.25
#: A cluster is "new" only if its mean tenure is also at most this many days.
NEW_DAYS = 90
#: Rhythm words by the median real days between orders of a cluster's repeat buyers.
RHYTHMS = (
    (10, "weekly"),
    (20, "fortnightly"),
    (45, "monthly"),
    (135, "seasonal"),
    (400, "yearly"),
)
CHANNEL_WORDS = {"pos": "in-store", "web": "online", "online_store": "online"}
#: Words for a high and a low cluster mean of a dimension. Words in :data:`SECONDARY` only
#: tell equal names apart.
WORDS = {
    "days_since_last_order": ("lapsed", "recent"),
    "tenure_days": ("long-time", "new"),
    "discount_order_share": ("deal-seeking", "full-price"),
    "distinct_categories": ("multi-category", "single-category"),
    "email_open_rate_90d": ("email-engaged", "email-unengaged"),
}
SECONDARY = {"long-time", "full-price", "single-category", "email-unengaged"}


class Modifier(NamedTuple):
    strength: float  # |z| of the dimension it describes
    word: str

    @property
    def primary(self) -> bool:
        return self.strength >= STRONG and self.word not in SECONDARY


class ClusterWords(NamedTuple):
    """The parts of a cluster's name."""

    aov: str | None
    rhythm: str | None
    noun: str
    modifiers: list[Modifier]  # strongest first


def cluster_words(
    z: np.ndarray, profile: Mapping[str, Any], main_channel: str | None
) -> ClusterWords:
    """Describe a cluster from its centroid ``z`` (standardized) and its profile row.

    AOV: "High-AOV"/"Low-AOV" at |z| >= 0.5. Mostly one-order customers are "one-timers";
    repeat clusters get an order rhythm (weekly ... yearly, from real days) and a noun:
    "deal-seekers" when the discount share is their most distinctive trait, "replenishers"
    (rhythm up to monthly) or "regulars" when they order more than average, else "repeat
    buyers". Other traits are modifiers ranked by |z| (:func:`modifiers`).
    """
    aov = z[_INDEX["aov"]]
    aov_word = "High-AOV" if aov >= 0.5 else "Low-AOV" if aov <= -0.5 else None
    one_timers = profile.get("repeat_share", 0.0) < 0.5
    found = modifiers(z, profile, main_channel, one_timers)
    if one_timers:
        return ClusterWords(aov_word, None, "one-timers", found)
    rhythm = _rhythm(profile.get("median_days_between_orders"))
    if found and found[0].word == "deal-seeking" and found[0].primary:
        return ClusterWords(aov_word, rhythm, "deal-seekers", found[1:])
    if z[_INDEX["number_of_orders"]] >= 0.5:
        noun = "replenishers" if rhythm in ("weekly", "fortnightly", "monthly") else "regulars"
    else:
        noun = "repeat buyers"
    return ClusterWords(aov_word, rhythm, noun, found)


def modifiers(
    z: np.ndarray, profile: Mapping[str, Any], main_channel: str | None, one_timers: bool
) -> list[Modifier]:
    """Words for the traits of :data:`WORDS` and the channel, strongest first (see
    :func:`_word` for tenure and recency), then the cluster's usual channel when it is not the
    store's main one (e.g. "in-store")."""
    found = []
    for name, (high, low) in WORDS.items():
        value = z[_INDEX[name]]
        word = _word(high if value > 0 else low, profile, one_timers)
        if word and abs(value) >= WEAK:
            found.append(Modifier(abs(value), word))
    channel, top = z[_INDEX["main_channel"]], profile.get("top_channel")
    if channel <= -WEAK and top and top != main_channel:
        found.append(Modifier(abs(channel), CHANNEL_WORDS.get(top, top.replace("_", "-"))))
    return sorted(found, key=lambda m: -m.strength)


def _word(word: str, profile: Mapping[str, Any], one_timers: bool) -> str | None:
    """Tenure and recency: one order means tenure equals recency, so one-timers are lapsed,
    recent or (recent with a mean tenure up to :data:`NEW_DAYS`) new; repeat clusters are
    new (same limit), long-time or lapsed ("recent" is implied by a rhythm)."""
    new = bool(profile.get("tenure_days", math.inf) <= NEW_DAYS)
    if word == "recent":
        return ("new" if new else "recent") if one_timers else None
    if word in ("new", "long-time"):
        return None if one_timers or (word == "new" and not new) else word
    return word


def _rhythm(days: Any) -> str | None:
    if days is None or not np.isfinite(days):
        return None
    return next((word for limit, word in RHYTHMS if days <= limit), "occasional")


def compose_name(words: ClusterWords, extra: int = 0) -> str:
    """The name: AOV, up to two describing words (the rhythm counts as one), the noun;
    ``extra`` more modifiers (secondary and weak ones included) to tell equal names apart."""
    room = (1 if words.rhythm else 2) + extra
    pool = words.modifiers if extra else [m for m in words.modifiers if m.primary]
    parts = [words.aov, *(m.word for m in pool[:room]), words.rhythm, words.noun]
    text = " ".join(p for p in parts if p)
    return text[0].upper() + text[1:]


def slug(name: str) -> str:
    """``High-AOV weekly replenishers`` -> ``high-aov-weekly-replenishers``."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def unique_names(all_words: Sequence[ClusterWords], taken: Sequence[str] = ()) -> list[str]:
    """A name per cluster, different from each other and from ``taken`` (compared as slugs):
    colliding names take more modifiers, then a number."""
    used = {slug(n) for n in taken}
    names: list[str] = []
    for words in all_words:
        name = compose_name(words)
        others = [compose_name(w) for w in all_words if w is not words]
        extra = 0
        while (slug(name) in used or slug(name) in map(slug, others)) and extra < 3:
            extra += 1
            name = compose_name(words, extra)
        base, number = name, 2
        while slug(name) in used:
            name, number = f"{base} {number}", number + 1
        used.add(slug(name))
        names.append(name)
    return names


# -- stability ----------------------------------------------------------------------------
def match_previous(
    centroids: np.ndarray, scale: BehaviourScale, previous: ClusterModel, max_shift: float
) -> dict[int, int]:
    """New cluster -> previous cluster, for pairs of the optimal one-to-one matching whose
    centroids are within ``max_shift`` in the previous model's standardized space."""
    mine = previous.scale.from_logged(scale.to_logged(centroids))
    cost = np.sqrt(((mine[:, None, :] - previous.centroids[None, :, :]) ** 2).sum(axis=2))
    rows, cols = linear_sum_assignment(cost)
    return {int(r): int(c) for r, c in zip(rows, cols, strict=True) if cost[r, c] <= max_shift}


def _identities(
    centroids: np.ndarray,
    profiles: pd.DataFrame,
    scale: BehaviourScale,
    previous: ClusterModel | None,
    max_shift: float,
) -> tuple[list[str], list[str]]:
    """Ids and names: carried over from matched previous clusters, generated for the rest."""
    matched = match_previous(centroids, scale, previous, max_shift) if previous else {}
    kept = {new: previous.names[old] for new, old in matched.items()} if previous else {}
    fresh = [c for c in range(len(centroids)) if c not in kept]
    words = [cluster_words(centroids[c], profiles.loc[c], scale.main_channel) for c in fresh]
    names = dict(kept)
    names.update(zip(fresh, unique_names(words, taken=list(kept.values())), strict=True))
    ids = {new: previous.ids[old] for new, old in matched.items()} if previous else {}
    ids.update({c: slug(names[c]) for c in fresh})
    return [ids[c] for c in range(len(centroids))], [names[c] for c in range(len(centroids))]


def _json_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts of plain Python values, NaN as None."""
    records = []
    for row in frame.to_dict(orient="records"):
        records.append({str(k): _json_value(v) for k, v in row.items()})
    return records


def _json_value(value: Any) -> Any:
    if value is None or value is pd.NA:
        return None
    if isinstance(value, np.integer | int) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, np.floating | float):
        return float(value) if math.isfinite(value) else None
    return value if isinstance(value, str | bool) else str(value)
