"""Where a refresh computes: the workspace's own DuckDB (default), or a Spark session.

Every feature and segment is an Ibis expression, so the same definitions run on either
engine. An engine gives the canonical tables as Ibis tables of its backend, materializes
intermediate results (``stage``) and brings results back into the workspace (``collect``).
"""

from __future__ import annotations

from typing import Any, Protocol

import ibis
import ibis.expr.operations as ops
import ibis.expr.types as ir
from ibis.backends.pyspark.datatypes import PySparkSchema

from segmint.features.tables import INPUTS, Tables
from segmint.store import Store


class Engine(Protocol):
    name: str

    def tables(self) -> Tables: ...

    def stage(self, name: str, expr: ir.Table) -> ir.Table: ...

    def collect(self, name: str, expr: ir.Table) -> ir.Table: ...


class DuckDBEngine:
    """The workspace file itself: staging and collecting are temporary DuckDB tables."""

    name = "duckdb"

    def __init__(self, store: Store) -> None:
        self.store = store

    def tables(self) -> Tables:
        return Tables.of(self.store)

    def stage(self, name: str, expr: ir.Table) -> ir.Table:
        return self.store.stage(name, expr)

    def collect(self, name: str, expr: ir.Table) -> ir.Table:
        """``expr`` as a workspace table: a table already stored is returned as it is."""
        if isinstance(expr.op(), ops.DatabaseTable):
            return expr
        return self.store.stage(name, expr)


class SparkEngine:
    """A Spark session (local or a cluster's): the workspace's canonical tables are copied
    into it as temporary views, results come back as Arrow tables.

    ``session`` is a ``pyspark.sql.SparkSession``; its time zone must be UTC, as the
    workspace's timestamps are (:func:`local_spark_session` sets it).
    """

    name = "spark"

    def __init__(self, store: Store, session: Any) -> None:
        zone = session.conf.get("spark.sql.session.timeZone")
        if zone not in ("UTC", "Etc/UTC", "+00:00", "Z"):
            raise ValueError(f"the Spark session's time zone must be UTC, not {zone}")
        self.store = store
        self.session = session
        self.con = ibis.pyspark.connect(session)
        self._tables: Tables | None = None

    def tables(self) -> Tables:
        if self._tables is None:
            loaded = {}
            for name in INPUTS:
                view = f"segmint_{name}"
                self._frame(self.store.table(name)).createOrReplaceTempView(view)
                loaded[name] = self.con.table(view)
            self._tables = Tables(**loaded)
        return self._tables

    def _frame(self, table: ir.Table) -> Any:
        """A Spark DataFrame of a workspace table, with the workspace's column types."""
        schema = PySparkSchema.from_ibis(table.schema())
        data = table.to_pyarrow()
        try:  # pyspark 4 takes Arrow directly
            return self.session.createDataFrame(data, schema=schema)
        except (TypeError, ValueError):  # pyspark 3.5: Python rows
            rows = [tuple(row.values()) for row in data.to_pylist()]
            return self.session.createDataFrame(rows, schema=schema)

    def stage(self, name: str, expr: ir.Table) -> ir.Table:
        return expr.cache()

    def collect(self, name: str, expr: ir.Table) -> ir.Table:
        return self.store.stage(name, expr.to_pyarrow())


def local_spark_session(app_name: str = "segmint", cores: int = 2) -> Any:
    """A local Spark session set up for segmint: UTC, few shuffle partitions."""
    from pyspark.sql import SparkSession

    return (
        SparkSession.builder.master(f"local[{cores}]")
        .appName(app_name)
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", str(cores))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", "2g")
        .getOrCreate()
    )
