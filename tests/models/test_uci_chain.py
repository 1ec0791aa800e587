"""The whole model chain on UCI Online Retail, imported with segmint's importer: predict,
validate (with the churn backtest), cluster. The two same-day cancelled giant orders
(customers 12346 and 16446) must not distort the spend model."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from segmint.models.gammagamma import GammaGammaModel
from segmint.models.runs import latest_run
from segmint.validate import validate_model
from segmint.workspace import Workspace

pytestmark = pytest.mark.shared_data

GIANT_CANCELLED = ("uci:12346", "uci:16446")


@pytest.fixture(scope="module")
def uci(shared_data, tmp_path_factory) -> Iterator[Workspace]:
    path = shared_data / "online_retail" / "online_retail_2010_2011.csv.gz"
    if not path.is_file():
        pytest.skip(f"UCI Online Retail not found at {path}")
    ws = Workspace(tmp_path_factory.mktemp("uci") / "uci.duckdb")
    ws.import_file(path)
    ws.predict()
    yield ws
    ws.close()


def customer_ids(ws: Workspace, identities: tuple[str, ...]) -> list[str]:
    table = ws.table("identities").to_pandas().set_index("identity")
    return [table.customer_id[i] for i in identities]


def test_spend_model_has_a_finite_mean(uci: Workspace):
    run = latest_run(uci.store, "predict")
    spend = GammaGammaModel.from_dict(run["models"]["gamma_gamma"])
    assert spend.params_["q"] > 1 and spend.has_finite_mean
    assert spend.excluded_nonpositive_ > 0  # net-zero repeat spend is counted, not fitted


def test_giant_cancelled_orders_are_not_top_customers(uci: Workspace):
    predictions = uci.table("predictions").to_pandas().set_index("customer_id")
    clv = predictions.predicted_clv_12m
    top_one_percent = clv.rank(ascending=False, method="min") <= np.ceil(len(clv) * 0.01)
    for customer in customer_ids(uci, GIANT_CANCELLED):
        assert not top_one_percent[customer]
        assert predictions.monetary_value[customer] == 0  # their net repeat spend


def test_validation_and_churn_backtest(uci: Workspace, tmp_path):
    result = validate_model(uci.store, 90, plot=tmp_path / "uci.png")
    orders = result.metrics["bg_nbd_orders"]
    assert orders["customers"] > 3000 and orders["actual"] > 0 and orders["predicted"] > 0
    assert result.churn is not None
    model = result.churn.score("gradient_boosting")
    baseline = result.churn.score("bg_nbd_1_minus_p_alive")
    assert model.roc_auc > 0.65 and model.roc_auc > baseline.roc_auc
    assert model.lift_top_decile > 1


def test_clusters_cover_every_buyer(uci: Workspace):
    result = uci.cluster()
    features = uci.features().to_pandas()
    buyers = features[features.number_of_orders >= 1]
    assert buyers.cluster.notna().all() and set(buyers.cluster) == set(result.model.ids)
    assert len(set(result.model.names)) == result.model.k
