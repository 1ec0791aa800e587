"""The embedded DuckDB store behind a workspace: tables, transactions, upgrades.

Computations are Ibis expressions; this module owns the few storage statements Ibis has no
expression for (transactions, deleting replaced rows). Those statements are built with
sqlglot from the fixed identifiers in :mod:`segmint.schema`, never from user input.
Expressions that are staged, inserted or run through the store are compiled once and the SQL
reused (:class:`Statements`): compiling, not DuckDB, is most of the cost of small batches.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import ibis
import ibis.expr.operations as ops
import pyarrow as pa
import sqlglot.expressions as sge
from ibis.backends.sql.datatypes import DuckDBType

from segmint.errors import WorkspaceError
from segmint.schema import ADDED_COLUMNS, CLUSTERED_BY, KEYS, SCHEMA_VERSION, TABLES


def add_columns(version: int) -> Any:
    """The upgrade step that adds the columns of schema ``version`` (empty) to older tables."""

    def step(store: Store) -> None:
        for table, columns in ADDED_COLUMNS[version].items():
            existing = set(store.con.table(table).columns)
            for column in columns:
                if column in existing:
                    continue
                kind = DuckDBType.from_ibis(TABLES[table][column])
                alter = sge.Alter(
                    this=sge.to_table(table),
                    kind="TABLE",
                    actions=[sge.ColumnDef(this=sge.to_identifier(column, quoted=True), kind=kind)],
                )
                store.con.raw_sql(alter.sql("duckdb"))

    return step


def date_refunds_at_their_orders(store: Store) -> None:
    """Schema 3: each refund of an order gains its order's day (``order_date``)."""
    add_columns(3)(store)
    store.con.raw_sql(
        update_from("refunds", "orders", ("order_id", "order_id"), {"order_date": "placed_date"})
    )


def update_from(target: str, source: str, on: tuple[str, str], values: dict[str, str]) -> str:
    """``UPDATE target SET column = s.value, ... FROM source AS s WHERE target.key = s.key``
    (``on``: the target's key and the source's; ``values``: target column -> source column),
    built with sqlglot from fixed identifiers: values travel in tables, never as SQL text."""
    statement = sge.Update(
        this=sge.to_table(target),
        expressions=[
            sge.EQ(
                this=sge.column(column, quoted=True),
                expression=sge.column(value, table="s", quoted=True),
            )
            for column, value in values.items()
        ],
        from_=sge.From(this=sge.to_table(source).as_("s")),
        where=sge.Where(
            this=sge.column(on[0], table=target, quoted=True).eq(
                sge.column(on[1], table="s", quoted=True)
            )
        ),
    )
    return statement.sql("duckdb")


#: Upgrades from version N to N + 1, applied in order when an older workspace is opened.
UPGRADES: dict[int, Any] = {1: add_columns(2), 2: date_refunds_at_their_orders}


#: DuckDB's memory budget; beyond it, large intermediate results spill to a temp folder.
#: ``SEGMINT_MEMORY_LIMIT`` overrides it (any DuckDB size, e.g. ``4GB``).
DEFAULT_MEMORY_LIMIT = "2GB"


def duckdb_config() -> dict[str, str]:
    return {
        "memory_limit": os.environ.get("SEGMINT_MEMORY_LIMIT", DEFAULT_MEMORY_LIMIT),
    }


def use_releasing_arrow_allocator() -> None:
    """Make Arrow allocate with jemalloc, which hands freed memory back to the system.

    An import frees hundreds of MB of Arrow buffers while DuckDB fills its own memory;
    Arrow's default allocator (mimalloc) keeps freed pages, which adds up to the peak.
    Respects ``ARROW_DEFAULT_MEMORY_POOL`` when the user set it.
    """
    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        return
    with contextlib.suppress(NotImplementedError):  # a pyarrow build without jemalloc
        pa.set_memory_pool(pa.jemalloc_memory_pool())


def server_file(path: Path) -> Path:
    """Where a running ``segmint serve`` says it holds the workspace at ``path``."""
    return path.with_name(f"{path.name}.server.json")


def _server_hint(path: Path) -> str | None:
    """Name the server that holds the workspace, when one says so."""
    try:
        server = json.loads(server_file(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return (
        f"segmint serve (process {server.get('pid')}) holds this workspace at "
        f"{server.get('url')}: use its API, or stop it first"
    )


T = TypeVar("T")

#: How often a transaction is tried again when another connection updated the same rows.
CONFLICT_ATTEMPTS = 20
CONFLICT_PAUSE_S = 0.05


def retry_on_conflict(work: Callable[[], T]) -> T:
    """Run ``work`` (a whole transaction) again while DuckDB refuses it because another
    connection to the database updated the same rows first (its concurrency is optimistic:
    the webhook deliverer updates deliveries on a connection of its own)."""
    for attempt in range(CONFLICT_ATTEMPTS):
        try:
            return work()
        except duckdb.TransactionException as exc:
            if "Conflict" not in str(exc) or attempt == CONFLICT_ATTEMPTS - 1:
                raise
            time.sleep(CONFLICT_PAUSE_S)
    raise AssertionError("unreachable")


def utcnow() -> datetime:
    """The current time as a naive UTC timestamp (how the workspace stores time)."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


#: How many compiled statements a store keeps: a server compiles the same few for every
#: event it ingests (staged tables keep their names and schemas from one batch to the next).
COMPILED_STATEMENTS = 512


@dataclass(frozen=True)
class Compiled:
    """An Ibis expression compiled to DuckDB SQL, with the schema Ibis gives its result."""

    sql: str
    schema: ibis.Schema
    memtables: bool  # reads an ``ibis.memtable``, which Ibis registers before each run
    reads: frozenset[str]  # the names of the tables it reads


class Statements:
    """Compiled SQL by expression: the same expression (the same operations over the same
    tables, names and schemas, and the same literals) is compiled once. Least recently used
    entries are dropped beyond ``size``."""

    def __init__(self, con: Any, size: int = COMPILED_STATEMENTS):
        self.con = con
        self.size = size
        self._compiled: OrderedDict[ops.Node, Compiled] = OrderedDict()

    def compile(self, expr: ibis.Expr) -> Compiled:
        op = expr.op()
        found = self._compiled.get(op)
        if found is not None:
            self._compiled.move_to_end(op)
            return found
        found = Compiled(
            self.con.compile(expr),
            expr.schema(),
            bool(op.find(ops.InMemoryTable)),
            frozenset(table.name for table in op.find(ops.DatabaseTable)),
        )
        self._compiled[op] = found
        if len(self._compiled) > self.size:
            self._compiled.popitem(last=False)
        return found


def _temporary(name: str) -> sge.Table:
    """The temporary table ``name``, never a stored table of the same name."""
    return sge.Table(
        this=sge.to_identifier(name, quoted=True),
        db=sge.to_identifier("main"),
        catalog=sge.to_identifier("temp"),
    )


class Store:
    """A DuckDB workspace file opened through Ibis."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        use_releasing_arrow_allocator()
        try:
            self.con = ibis.duckdb.connect(str(self.path), **duckdb_config())
        except Exception as exc:  # duckdb raises IOException and friends
            raise WorkspaceError(
                f"cannot open workspace {self.path}: {exc}", hint=_server_hint(self.path)
            ) from None
        self._in_transaction = False
        self.statements = Statements(self.con)
        self._staged: dict[tuple[str, Any], ibis.Table] = {}
        try:
            self.ensure_schema()
        except BaseException:
            self.con.disconnect()  # release the file: a refused workspace stays closed
            raise

    @classmethod
    def over(cls, con: Any, path: Path) -> Store:
        """A store over an already open Ibis DuckDB backend of the workspace at ``path``."""
        store = cls.__new__(cls)
        store.path, store.con, store._in_transaction = Path(path), con, False
        store.statements, store._staged = Statements(con), {}
        return store

    def reader(self) -> Store:
        """Another connection to the same open database: its own transactions and temporary
        tables, for reading from another thread while this one writes."""
        return Store.over(ibis.duckdb.from_connection(self.con.con.cursor()), self.path)

    # -- tables -------------------------------------------------------------------------
    def table(self, name: str) -> ibis.Table:
        return self.con.table(name)

    def ensure_schema(self) -> None:
        """Create missing tables; upgrade an older workspace after writing a backup."""
        existing = set(self.con.list_tables())
        if "settings" in existing:
            version = int(self.get_setting("schema_version", 0))
            if version > SCHEMA_VERSION:
                raise WorkspaceError(
                    f"workspace {self.path} has schema version {version}, newer than this "
                    f"segmint ({SCHEMA_VERSION})",
                    hint="upgrade segmint",
                )
            if version < SCHEMA_VERSION:
                self.upgrade(version)
        for name, schema in TABLES.items():
            if name not in existing:
                self.con.create_table(name, schema=schema)
        if "settings" not in existing:
            self.set_setting("schema_version", SCHEMA_VERSION)

    def upgrade(self, version: int) -> Path:
        """Back the file up, then apply each upgrade step from ``version`` to the current one.

        The steps run in one transaction: if one fails, the workspace stays at ``version``
        (and the backup is there too).
        """
        backup = self.path.with_name(f"{self.path.name}.bak-v{version}")
        self.con.raw_sql(sge.Command(this="CHECKPOINT").sql("duckdb"))
        try:
            shutil.copyfile(self.path, backup)
        except OSError as exc:
            raise WorkspaceError(
                f"cannot back up workspace {self.path} before upgrading it: {exc}",
                hint="free some disk space or check the folder's permissions",
            ) from None
        try:
            with self.transaction():
                for step in range(version, SCHEMA_VERSION):
                    if step not in UPGRADES:
                        raise RuntimeError(f"no upgrade from schema version {step}")
                    UPGRADES[step](self)
                self.set_setting("schema_version", SCHEMA_VERSION)
        except Exception as exc:
            raise WorkspaceError(
                f"cannot upgrade workspace {self.path} from schema version {version} to "
                f"{SCHEMA_VERSION}: {exc}",
                hint=f"the workspace is unchanged; a copy is at {backup}",
            ) from exc
        return backup

    # -- settings -----------------------------------------------------------------------
    def settings(self) -> dict[str, Any]:
        rows = self.table("settings").to_pyarrow().to_pylist()
        return {row["key"]: json.loads(row["value"]) for row in rows}

    def get_setting(self, key: str, default: Any = None) -> Any:
        return self.settings().get(key, default)

    def set_setting(self, key: str, value: Any) -> None:
        row = pa.table({"key": [key], "value": [json.dumps(value, sort_keys=True)]})
        self.con.upsert("settings", row, on="key")

    # -- writes -------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Run a block atomically: on any exception the workspace is left as it was."""
        if self._in_transaction:
            yield
            return
        self.con.raw_sql("BEGIN TRANSACTION")
        self._in_transaction = True
        try:
            yield
        except BaseException:
            self.con.raw_sql("ROLLBACK")
            raise
        else:
            self.con.raw_sql("COMMIT")
        finally:
            self._in_transaction = False

    def stage(self, name: str, data: pa.Table | ibis.Table) -> ibis.Table:
        """Materialize a batch as a temporary table and return it as an Ibis table.

        The expression is compiled once (see :class:`Statements`), and the table is created
        with the columns and types Ibis gives the expression, then filled.
        """
        if isinstance(data, pa.Table):
            with self.arrow(f"_arrow_{name}", data) as view:
                return self.stage(name, view)
        compiled = self.statements.compile(data)
        if compiled.memtables:
            return self.con.create_table(name, data, temp=True, overwrite=True)
        # An expression that reads the table it replaces fills another one first, renamed
        # after (DuckDB then plans later queries on it less well: no statistics).
        filling = f"{name}__new" if name in compiled.reads else name
        create = sge.Create(
            kind="TABLE",
            this=sge.Schema(
                this=sge.Table(this=sge.to_identifier(filling, quoted=True)),
                expressions=compiled.schema.to_sqlglot_column_defs("duckdb"),
            ),
            properties=sge.Properties(expressions=[sge.TemporaryProperty()]),
            replace=True,
        ).sql("duckdb")
        self.con.con.execute(create)
        self._insert_into(
            sge.to_identifier(filling, quoted=True), compiled.schema.names, compiled.sql
        )
        if filling != name:
            self._rename(filling, name)
        staged = self._staged.get((name, create))
        if staged is None:
            staged = self.con.table(name, database=("temp", "main"))
            self._remember(name, create, staged)
        return staged

    def _remember(self, name: str, shape: Any, table: ibis.Table) -> None:
        """Keep the Ibis table of a staged table or view of this name and shape (its SQL or
        schema); forgotten all at once beyond :data:`COMPILED_STATEMENTS` (files of many
        different layouts imported through one long-running server)."""
        if len(self._staged) >= COMPILED_STATEMENTS:
            self._staged.clear()
        self._staged[(name, shape)] = table

    def refill(self, name: str, data: pa.Table | ibis.Table | None) -> None:
        """Replace the rows of a table :meth:`stage` made with ``data`` of the same schema
        (``None``: empty it). Cheaper than staging again, and the table stays the same one."""
        if isinstance(data, pa.Table):
            with self.arrow(f"_arrow_{name}", data) as view:
                return self.refill(name, view)
        target = sge.to_identifier(name, quoted=True)
        self.con.con.execute(sge.delete(_temporary(name)).sql("duckdb"))
        if data is not None:
            compiled = self.statements.compile(data)
            self._insert_into(target, compiled.schema.names, compiled.sql)
        return None

    @contextmanager
    def arrow(self, name: str, data: pa.Table) -> Iterator[ibis.Table]:
        """An Arrow table as a view DuckDB scans in place, for the duration of the block.

        Unlike ``ibis.memtable``, whose registration lasts as long as the connection, the
        view is dropped on exit, so the Arrow memory is freed as soon as Python lets go.
        """
        self.con.con.register(name, data)
        try:
            view = self._staged.get((name, data.schema))
            if view is None:  # the same name and schema: the same Ibis table (no describe)
                view = self.con.table(name)
                self._remember(name, data.schema, view)
            yield view
        finally:
            self.con.con.unregister(name)

    def delete_all(self, table: str) -> None:
        """Empty a workspace table (inside a transaction, to replace its contents)."""
        if table not in TABLES:
            raise ValueError(f"not a workspace table: {table}")
        self.con.raw_sql(sge.delete(sge.to_identifier(table, quoted=True)).sql("duckdb"))

    def delete_where_key_in(self, table: str, key: str, keys_table: str) -> None:
        """Delete rows of ``table`` (a stored table, canonical or not, such as the features)
        whose ``key`` appears in the staged ``keys_table``."""
        if key not in self.table(table).columns:
            raise ValueError(f"not a workspace table column: {table}.{key}")
        subquery = sge.select(sge.column(key)).from_(sge.to_identifier(keys_table, quoted=True))
        statement = sge.delete(
            sge.to_identifier(table, quoted=True),
            where=sge.column(key, quoted=True).isin(query=subquery),
        )
        self.con.raw_sql(statement.sql("duckdb"))

    def delete_matching(self, table: str, keys_table: str, columns: Sequence[str]) -> None:
        """Delete rows of the workspace table ``table`` whose ``columns`` all equal those of
        a row of the staged ``keys_table`` (a composite key)."""
        if table not in TABLES or not set(columns) <= set(TABLES[table].names):
            raise ValueError(f"not workspace table columns: {table}.{list(columns)}")
        match = sge.and_(
            *(sge.column(c, table="k").eq(sge.column(c, table=table)) for c in columns)
        )
        keys = sge.select("1").from_(sge.to_table(keys_table).as_("k")).where(match)
        statement = sge.delete(sge.to_table(table), where=sge.Exists(this=keys))
        self.con.raw_sql(statement.sql("duckdb"))

    def remap_customer_ids(self, table: str, mapping_table: str) -> None:
        """Point ``table.customer_id`` (or ``surviving_id`` in merges) at surviving customers."""
        column = "surviving_id" if table == "merges" else "customer_id"
        if table not in TABLES or column not in TABLES[table]:
            raise ValueError(f"not a workspace table column: {table}.{column}")
        update = update_from(table, mapping_table, (column, "merged_id"), {column: "surviving_id"})
        self.con.raw_sql(update)

    def delete_event_orders(self, keys_table: str) -> None:
        """Delete orders first known from a Placed Order event, now imported from the store."""
        subquery = sge.select(sge.column("key")).from_(sge.to_identifier(keys_table, quoted=True))
        condition = sge.and_(
            sge.column("source").eq(sge.Literal.string("events")),
            sge.column("order_id").isin(query=subquery),
        )
        self.con.raw_sql(sge.delete(sge.to_table("orders"), where=condition).sql("duckdb"))

    def replace_rows(self, table: str, batch: ibis.Table, key: str | None = None) -> None:
        """Insert ``batch`` into ``table``, replacing rows that share its key values."""
        key = key or KEYS[table]
        staged_keys = f"_keys_{table}"
        self.stage(staged_keys, batch.select(key).distinct())
        self.delete_where_key_in(table, key, staged_keys)
        self.insert(table, batch)
        self.con.drop_table(staged_keys, force=True)

    def insert(self, table: str, batch: ibis.Table | pa.Table) -> None:
        """Append rows, cast to the canonical schema, columns in canonical order, sorted by
        the table's :data:`~segmint.schema.CLUSTERED_BY` column."""
        if isinstance(batch, pa.Table):
            with self.arrow(f"_arrow_insert_{table}", batch) as view:
                self.insert(table, view)
            return
        schema = TABLES[table]
        batch = batch.select(
            [
                batch[c].cast(t).name(c) if c in batch.columns else ibis.null(t).name(c)
                for c, t in schema.items()
            ]
        )
        if table in CLUSTERED_BY:
            batch = batch.order_by(CLUSTERED_BY[table])
        compiled = self.statements.compile(batch)
        if compiled.memtables:
            self.con.insert(table, batch)
            return
        self._insert_into(sge.to_identifier(table, quoted=True), schema.names, compiled.sql)

    def _rename(self, table: str, name: str) -> None:
        """Replace the temporary table ``name`` with ``table``."""
        drop = sge.Drop(kind="TABLE", this=_temporary(name), exists=True)
        self.con.con.execute(drop.sql("duckdb"))
        rename = sge.Alter(
            this=_temporary(table),
            kind="TABLE",
            actions=[sge.AlterRename(this=sge.Table(this=sge.to_identifier(name, quoted=True)))],
        )
        self.con.con.execute(rename.sql("duckdb"))

    def _insert_into(self, target: sge.Identifier, columns: Iterable[str], query: str) -> None:
        """``INSERT INTO target (columns) query``: by name, as stored tables gain columns at
        the end when a workspace is upgraded."""
        names = ", ".join(sge.to_identifier(c, quoted=True).sql("duckdb") for c in columns)
        self.con.con.execute(f"INSERT INTO {target.sql('duckdb')} ({names}) {query}")

    def run(self, expr: ibis.Expr) -> pa.Table:
        """The rows of a table expression, as Arrow, compiled once (see :class:`Statements`).

        Types are DuckDB's, not cast to Ibis's schema as ``to_pyarrow()`` does (a sum of
        integers is a decimal here): use it for counts, ids, dates and text."""
        compiled = self.statements.compile(expr)
        if compiled.memtables:
            return self.con.to_pyarrow(expr)
        return self.con.con.execute(compiled.sql).to_arrow_table()

    def scalar(self, expr: ibis.Scalar) -> Any:
        """The value of a scalar expression as a Python value, compiled once."""
        table = self.run(expr.as_table())
        return table.column(0)[0].as_py()

    def next_id(self, table: str, column: str) -> int:
        """One more than the largest id so far (ids are never reused)."""
        current = self.table(table)[column].max().execute()
        return int(current or 0) + 1

    def close(self) -> None:
        self.con.disconnect()
