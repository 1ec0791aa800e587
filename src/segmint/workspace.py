"""The Python API: one :class:`Workspace` object behind the CLI and, later, the web server.

>>> ws = Workspace("shop.duckdb")                      # doctest: +SKIP
>>> ws.import_file("orders_export.csv")                # doctest: +SKIP
>>> ws.table("customers").to_pandas()                  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ibis.expr.types as ir
import pyarrow as pa

from segmint.backfill import backfill
from segmint.clustering import ClusterResult, cluster
from segmint.engine import Engine
from segmint.errors import SegmintError
from segmint.features.tables import stored_features
from segmint.history import check_recorded, checked_segments, latest_observed, segment_history
from segmint.identity import find_customer_id, surviving_id
from segmint.importers.base import ImportOptions
from segmint.importing import ImportResult, import_file
from segmint.predict import PredictResult, predict
from segmint.refresh import RefreshResult, refresh
from segmint.schema import TABLES
from segmint.scorecard import kpi_windows, segment_kpis
from segmint.settings import Settings, parse_setting
from segmint.store import Store
from segmint.summary import workspace_summary

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_PATH = "segmint.duckdb"


class Workspace:
    """A store's unified customer base in an embedded DuckDB file."""

    def __init__(self, path: Path | str = DEFAULT_PATH):
        self.path = Path(path)
        self.store = Store(self.path)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- settings -----------------------------------------------------------------------
    @property
    def settings(self) -> Settings:
        return Settings(self.store.settings())

    def set_setting(self, key: str, value: str) -> Any:
        """Validate and store a setting given as text; returns the stored value."""
        parsed = parse_setting(key, value)
        self.store.set_setting(key, parsed)
        return parsed

    # -- imports ------------------------------------------------------------------------
    def import_file(
        self,
        path: Path | str,
        options: ImportOptions | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> ImportResult:
        """Import one file (format detected from its header unless ``options`` says)."""
        return import_file(self.store, Path(path), options, progress=progress)

    def import_files(
        self, paths: Iterable[Path | str], options: ImportOptions | None = None
    ) -> list[ImportResult]:
        return [self.import_file(p, options) for p in paths]

    def imports(self) -> pa.Table:
        return self.store.table("imports").order_by("import_id").to_pyarrow()

    def rejects(self, import_id: int | None = None, limit: int | None = None) -> pa.Table:
        rejects = self.store.table("rejects")
        if import_id is not None:
            rejects = rejects.filter(rejects.import_id == import_id)
        rejects = rejects.order_by(["import_id", "row_number"])
        return (rejects.limit(limit) if limit else rejects).to_pyarrow()

    # -- reading --------------------------------------------------------------------------
    def table(self, name: str) -> ir.Table:
        """A canonical table as an Ibis expression (``.to_pandas()``, ``.to_pyarrow()``)."""
        if name not in TABLES:
            raise SegmintError(f"unknown table '{name}'", details="Tables: " + ", ".join(TABLES))
        return self.store.table(name)

    def to_pandas(self, name: str) -> pd.DataFrame:
        return self.table(name).to_pandas()

    def summary(self) -> dict[str, Any]:
        return workspace_summary(self.store)

    def refresh(self, as_of: date | None = None, engine: Engine | None = None) -> RefreshResult:
        """Recompute every customer's features and segments as of a day (default: the
        latest order), on ``engine`` (default: the workspace's DuckDB)."""
        return refresh(self.store, as_of, engine=engine)

    def backfill(self, since: str = "12m", every: str = "month") -> list[RefreshResult]:
        """Record the segments as of every past week or month end (history only)."""
        return backfill(self.store, since, every)

    def segment_history(self, segment: str, every: str | None = None) -> pd.DataFrame:
        """A segment's ``date``, ``size``, ``entries`` and ``exits`` at each observed day
        (or summed per ``every`` week, month or quarter)."""
        import pandas as pd

        rows = segment_history(self.store, check_recorded(self.store, segment), every)
        return pd.DataFrame(rows)

    def kpis(
        self,
        segments: Iterable[str] | None = None,
        start: date | None = None,
        end: date | None = None,
        every: str | None = None,
        since: date | None = None,
    ) -> pd.DataFrame:
        """KPIs of ``segments`` (default: all) against the baseline, one row per segment and
        window (see ``docs/measure.md``): members on ``start`` (default: 90 days before
        ``end``, itself the latest observed day), outcomes up to ``end``; with ``every``
        (month, quarter), one window per period since ``since`` (default: a year before)."""
        import pandas as pd

        windows = kpi_windows(end or latest_observed(self.store), start, every, since)
        slugs = checked_segments(self.store, segments)
        records = [r for w in windows for r in segment_kpis(self.store, slugs, w)]
        return pd.DataFrame(records)

    def predict(
        self,
        as_of: date | None = None,
        time_unit: str = "week",
        monthly_discount: float = 0.01,
        then_refresh: bool = True,
    ) -> PredictResult:
        """Fit the lifetime-value models on orders up to ``as_of``, store every customer's
        predictions as features, and refresh (see :mod:`segmint.predict`)."""
        return predict(self.store, as_of, time_unit, monthly_discount, then_refresh)

    def cluster(
        self, k: int | None = None, k_range: range = range(2, 9), then_refresh: bool = True
    ) -> ClusterResult:
        """Find behavioural clusters in the latest features, store every customer's cluster
        and refresh, so clusters are segments (see :mod:`segmint.clustering`)."""
        return cluster(self.store, k, k_range, then_refresh)

    def features(self) -> ir.Table:
        """The features of the latest refresh (run :meth:`refresh` first)."""
        return stored_features(self.store)

    def resolve_customer_id(self, customer_id: str) -> str | None:
        """Follow merge redirects: an id handed out earlier still finds its customer."""
        current = surviving_id(self.store, customer_id)
        customers = self.store.table("customers")
        exists = self.store.scalar(customers.filter(customers.customer_id == current).count())
        return current if exists else None

    def find_customer(self, key: str) -> dict[str, Any] | None:
        """A customer by segmint id (or a merged one), source id, email or phone."""
        country = self.settings["default_phone_country"]
        customer_id = find_customer_id(self.store, key, country)
        if customer_id is None:
            return None
        customers = self.store.table("customers")
        rows = customers.filter(customers.customer_id == customer_id).to_pyarrow().to_pylist()
        return rows[0] if rows else None
