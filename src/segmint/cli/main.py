"""``segmint`` commands. Each one parses options, calls the workspace, formats the result."""

from __future__ import annotations

import os
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import ibis
import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from segmint.cli.app import SegmintGroup, app
from segmint.cli.output import print_records, print_warnings, stderr, stdout
from segmint.cli.state import State, open_workspace
from segmint.errors import ConfigError, did_you_mean
from segmint.importers.base import ImportOptions
from segmint.importing import PHASES, ImportResult
from segmint.periods import parse_day
from segmint.workspace import DEFAULT_PATH, Workspace

if TYPE_CHECKING:
    from segmint.campaigns.report import Report
    from segmint.demo_campaign import PotentialOutcomes

JsonOption = Annotated[bool, typer.Option("--json", help="Print a JSON list of records.")]
CustomerKey = Annotated[str, typer.Argument(help="segmint id, source id, email or phone.")]
IMPORT_COLUMNS = [
    "file",
    "format",
    "rows_read",
    "rows_loaded",
    "rows_rejected",
    "duplicate_rows",
    "customers_created",
    "customers_merged",
    "orders_new",
    "orders_updated",
    "events_new",
    "status",
]


@app.callback()
def main_options(
    workspace: Annotated[
        Path,
        typer.Option(
            "--workspace", "-w", envvar="SEGMINT_WORKSPACE", help="Workspace file (DuckDB)."
        ),
    ] = Path(DEFAULT_PATH),
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
) -> None:
    """segmint: unify store exports into one customer base, then segment it."""
    State.workspace_path = workspace
    if debug:
        SegmintGroup.debug = True


# -- import -------------------------------------------------------------------------------
@app.command("import")
def import_command(
    files: Annotated[list[Path], typer.Argument(help="Files to import (CSV, XLSX, Parquet).")],
    format: Annotated[str | None, typer.Option(help="Override format detection.")] = None,
    mapping: Annotated[Path | None, typer.Option(help="YAML column mapping.")] = None,
    encoding: Annotated[str, typer.Option(help="Text encoding of CSV files.")] = "utf-8",
    currency: Annotated[str | None, typer.Option(help="Workspace currency if unset.")] = None,
    timezone: Annotated[str | None, typer.Option(help="Workspace time zone if unset.")] = None,
    show_rejects: Annotated[int, typer.Option(help="Rejected rows to list.")] = 10,
    as_json: JsonOption = False,
) -> None:
    """Import store exports; every row is loaded or rejected with its reason."""
    options = ImportOptions(
        format=format,
        encoding=encoding,
        currency=currency,
        timezone=_timezone(timezone),
        mapping=_mapping(mapping),
    )
    with open_workspace() as ws:
        results = [_import_with_progress(ws, f, options, quiet=as_json) for f in files]
        print_records(
            [_result_record(r) for r in results],
            as_json=as_json,
            title="Imports",
            columns=IMPORT_COLUMNS,
            transpose=True,
        )
        if not as_json:
            for result in results:
                _print_reject_preview(ws, result, show_rejects)


def _timezone(value: str | None) -> str | None:
    from segmint.settings import validate_timezone

    return validate_timezone(value) if value else None


def _mapping(path: Path | None) -> dict[str, Any] | None:
    if path is None:
        return None
    from segmint.importers.mapped import load_mapping

    return load_mapping(path)


def _import_with_progress(
    ws: Workspace, path: Path, options: ImportOptions, quiet: bool
) -> ImportResult:
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[phase]}"),
        TimeElapsedColumn(),
    )
    # Only on a terminal: elsewhere a progress display writes lines before any Error: line.
    live = not quiet and stderr.is_terminal
    with Progress(*columns, console=stderr, transient=True, disable=not live) as bar:
        task = bar.add_task(path.name, total=len(PHASES), phase="")

        def step(phase: str) -> None:
            bar.update(task, completed=PHASES.index(phase), phase=phase)

        return ws.import_file(path, options, progress=step)


def _result_record(result: ImportResult) -> dict[str, Any]:
    record = result.as_dict()
    record["status"] = "already imported" if result.skipped else "imported"
    return record


def _print_reject_preview(ws: Workspace, result: ImportResult, limit: int) -> None:
    if result.skipped:
        stdout.print(
            f"{result.file}: already imported (import {result.import_id}); nothing changed."
        )
        return
    if not result.rows_rejected:
        return
    stdout.print(f"{result.file}: {result.rows_rejected:,} rows rejected:")
    for reason, count in sorted(result.reject_reasons.items(), key=lambda kv: -kv[1]):
        stdout.print(f"  {count:>8,}  {reason}")
    if limit:
        for reject in ws.rejects(result.import_id, limit=limit).to_pylist():
            stdout.print("  " + describe_reject(reject))
        stdout.print(f"  (all of them: segmint rejects --import {result.import_id})")


def describe_reject(reject: dict[str, Any]) -> str:
    """``orders.csv row 6, column Subtotal: not a number ('abc')``."""
    where = str(reject["file"])
    if reject.get("row_number") is not None:
        where += f" row {reject['row_number']}"
    if reject.get("column"):
        where += f", column {reject['column']}"
    raw = f" ('{reject['raw_value']}')" if reject.get("raw_value") not in (None, "") else ""
    return f"{where}: {reject['reason']}{raw}"


# -- features -------------------------------------------------------------------------------
@app.command()
def refresh(
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Compute as of this day (YYYY-MM-DD); default: last order."),
    ] = None,
    engine: Annotated[
        str,
        typer.Option(help="Compute on 'duckdb' (the workspace) or 'spark' (a local session)."),
    ] = "duckdb",
    as_json: JsonOption = False,
) -> None:
    """Recompute every customer's features and segments as of a day."""
    day = _as_of_date(as_of)
    if engine not in ("duckdb", "spark"):
        raise ConfigError(f"--engine: '{engine}' is not an engine", hint="use duckdb or spark")
    with open_workspace() as ws, stderr.status("Computing customer features...") as status:
        if as_json:
            status.stop()
        result = ws.refresh(day, engine=_spark_engine(ws) if engine == "spark" else None)
    print_records([result.as_dict()], as_json=as_json, title="Refresh", transpose=True)
    _print_warnings([w.message for w in result.warnings])


def _spark_engine(ws: Workspace) -> Any:
    from segmint.engine import SparkEngine, local_spark_session

    return SparkEngine(ws.store, local_spark_session(cores=os.cpu_count() or 2))


def _print_warnings(messages: list[str]) -> None:
    """Audience warnings on standard error, one ``Warning:`` line each."""
    print_warnings(messages)


def _as_of_date(text: str | None) -> date | None:
    return None if text is None else parse_day(text, "--as-of")


# -- models ---------------------------------------------------------------------------------
TimeUnit = Annotated[str, typer.Option("--time-unit", help="Model time unit: 'week' or 'day'.")]


@app.command()
def predict(
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Fit on orders up to this day (YYYY-MM-DD); default: last."),
    ] = None,
    time_unit: TimeUnit = "week",
    monthly_discount: Annotated[
        float, typer.Option(help="Monthly discount rate of predicted CLV (0.01 = 1%).")
    ] = 0.01,
    no_refresh: Annotated[
        bool, typer.Option("--no-refresh", help="Store predictions without refreshing.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Fit lifetime-value and churn models; store predictions as features (p_alive, ...)."""
    day = _as_of_date(as_of)
    _check_time_unit(time_unit)
    if monthly_discount < 0:
        raise ConfigError("--monthly-discount cannot be negative")
    with open_workspace() as ws, stderr.status("Fitting models...") as status:
        if as_json:
            status.stop()
        result = ws.predict(day, time_unit, monthly_discount, then_refresh=not no_refresh)
    print_records([result.as_dict()], as_json=as_json, title="Predictions", transpose=True)
    _print_warnings(result.warnings)
    if result.refreshed is not None:
        _print_warnings([w.message for w in result.refreshed.warnings])


@app.command("validate-model")
def validate_model_command(
    holdout: Annotated[
        str, typer.Option(help="Days (90d) or weeks (13w) held out at the end of the data.")
    ] = "90d",
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Last day of the holdout (YYYY-MM-DD); default: last order."),
    ] = None,
    time_unit: TimeUnit = "week",
    plot: Annotated[
        Path | None,
        typer.Option(help="Calibration plot (PNG); default: <workspace>-validation.png."),
    ] = None,
    no_churn: Annotated[
        bool, typer.Option("--no-churn", help="Skip the churn model's backtest.")
    ] = False,
    pareto_nbd: Annotated[
        bool, typer.Option("--pareto-nbd", help="Compare Pareto/NBD too (slower).")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Fit on the data before a holdout period and compare predictions with what happened."""
    from segmint.validate import parse_holdout, validate_model

    days = parse_holdout(holdout)
    end = _as_of_date(as_of)
    _check_time_unit(time_unit)
    plot = plot or State.workspace_path.with_name(f"{State.workspace_path.stem}-validation.png")
    with open_workspace() as ws, stderr.status("Validating models...") as status:
        if as_json:
            status.stop()
        result = validate_model(
            ws.store, days, end, time_unit, plot, with_churn=not no_churn, with_pareto=pareto_nbd
        )
    if as_json:
        print_records([result.as_record()], as_json=True)
        _print_warnings(result.warnings)
        return
    first = result.calibration_end + timedelta(days=1)
    print_records(
        result.holdout_rows(),
        as_json=False,
        title=f"Holdout {first} to {result.holdout_end} (calibration to {result.calibration_end})",
        columns=["model", "quantity", "customers", "actual", "predicted", "aggregate_error", "mae"],
    )
    print_records(
        result.calibration.to_dict("records"),
        as_json=False,
        title="Calibration by decile of predicted orders (means per customer)",
    )
    print_records(
        [{"": "next order date", **result.metrics["next_order"]}],
        as_json=False,
        title="Expected next order date",
        transpose=True,
    )
    if result.churn is not None:
        print_records(
            result.churn.as_rows(),
            as_json=False,
            title=f"Churn in the next {result.churn.evaluate.horizon_days} days "
            f"(evaluated from {result.churn.evaluate.as_of})",
        )
    stdout.print(f"Plot: {result.plot}", markup=False)
    _print_warnings(result.warnings)


CLUSTER_COLUMNS = [
    "id",
    "name",
    "customers",
    "customer_share",
    "revenue_share",
    "number_of_orders",
    "aov",
    "days_since_last_order",
    "median_days_between_orders",
    "discount_order_share",
    "email_open_rate_90d",
]


@app.command("cluster")
def cluster_command(
    k: Annotated[int | None, typer.Option("--k", help="Number of clusters; default: best.")] = None,
    k_min: Annotated[int, typer.Option(help="Fewest clusters to try.")] = 2,
    k_max: Annotated[int, typer.Option(help="Most clusters to try.")] = 8,
    no_refresh: Annotated[
        bool, typer.Option("--no-refresh", help="Store clusters without refreshing.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Find behavioural clusters in the latest features; they become the cluster segments."""
    if k is not None and k < 2:
        raise ConfigError("--k must be at least 2")
    if not 2 <= k_min <= k_max:
        raise ConfigError("--k-min and --k-max must satisfy 2 <= k-min <= k-max")
    with open_workspace() as ws, stderr.status("Clustering customers...") as status:
        if as_json:
            status.stop()
        result = ws.cluster(k, range(k_min, k_max + 1), then_refresh=not no_refresh)
    title = (
        f"{result.model.k} clusters of {result.model.customers:,} customers as of {result.as_of}"
    )
    print_records(result.profile_records(), as_json=as_json, title=title, columns=CLUSTER_COLUMNS)
    if result.refreshed is not None:
        _print_warnings([w.message for w in result.refreshed.warnings])


def _check_time_unit(time_unit: str) -> None:
    from segmint.models.summary import TIME_UNITS

    if time_unit not in TIME_UNITS:
        raise ConfigError(f"--time-unit: '{time_unit}' is not a time unit", hint="use week or day")


# -- segments -------------------------------------------------------------------------------
segments_app = typer.Typer(help="Evaluate and manage segments.", no_args_is_help=True)
app.add_typer(segments_app, name="segments")


@segments_app.command("list")
def segments_list(as_json: JsonOption = False) -> None:
    """Every segment with its size, share of customers and of revenue, and warnings."""
    from segmint.segments import segment_sizes, stored_segments, stored_warnings

    with open_workspace() as ws:
        records = segment_sizes(ws.store).to_pyarrow().to_pylist()
        warnings = stored_warnings(ws.store)
        order = {slug: i for i, slug in enumerate(stored_segments(ws.store))}
    records.sort(key=lambda r: order[r["segment"]])
    for record in records:
        record["warnings"] = "; ".join(w.kind for w in warnings if w.segment == record["segment"])
    columns = [
        "segment",
        "name",
        "family",
        "version",
        "customers",
        "share_of_customers",
        "share_of_revenue",
        "warnings",
    ]
    print_records(records, as_json=as_json, title="Segments (latest refresh)", columns=columns)
    if not as_json:
        _print_warnings([w.message for w in warnings])


@segments_app.command("overlap")
def segments_overlap(
    segments: Annotated[
        list[str] | None, typer.Argument(help="Segments to compare (default: all).")
    ] = None,
    limit: Annotated[int, typer.Option(help="At most this many pairs (0: all).")] = 30,
    as_json: JsonOption = False,
) -> None:
    """Customers shared by each pair of segments, largest overlap first."""
    from segmint.segments import stored_segments
    from segmint.segments.overlap import overlap

    with open_workspace() as ws:
        known = stored_segments(ws.store)
        for slug in segments or []:
            if slug not in known:
                hint = did_you_mean(slug, known) or "segmint segments list shows them"
                raise ConfigError(f"unknown segment '{slug}'", hint=hint)
        pairs = overlap(ws.store, segments)
        records = (pairs.limit(limit) if limit else pairs).to_pyarrow().to_pylist()
    title = "Segment overlap (share_of_smaller: shared / the smaller segment)"
    print_records(records, as_json=as_json, title=title)


@segments_app.command("templates")
def segments_templates(as_json: JsonOption = False) -> None:
    """The segment templates to fill in segments.yaml (geography, tags)."""
    from segmint.segments.templates import TEMPLATES

    records = [
        {"template": name, "fields": ", ".join(t.fields), "slug": t.slug, "rule": t.rule}
        for name, t in TEMPLATES.items()
    ]
    print_records(records, as_json=as_json, title="Templates (segments.yaml: template, values)")


@segments_app.command("preview")
def segments_preview(
    rule: Annotated[str, typer.Argument(help='A rule, e.g. "number_of_orders >= 3".')],
    limit: Annotated[int, typer.Option(help="At most this many members (0: all).")] = 20,
    as_json: JsonOption = False,
) -> None:
    """Evaluate a rule against the latest refresh without saving it."""
    from segmint.segments import preview

    with open_workspace() as ws:
        result = preview(ws.store, rule)
        members = result.members.order_by("customer_id")
        count = int(members.count().to_pyarrow().as_py())
        records = (members.limit(limit) if limit else members).to_pyarrow().to_pylist()
    share = count / result.customers if result.customers else 0.0
    title = f"{count:,} of {result.customers:,} customers ({share:.1%}) as of {result.as_of}"
    print_records(records, as_json=as_json, title=title, columns=list(result.members.columns))


@app.command()
def explain(key: CustomerKey, as_json: JsonOption = False) -> None:
    """The segments a customer is in, and the feature values that put them there."""
    from segmint.segments.explain import explain as explain_customer

    with open_workspace() as ws:
        found = _find_customer(ws, key)
        result = explain_customer(ws.store, found["customer_id"])
    if as_json:
        record = {
            "customer_id": result.customer_id,
            "email": found.get("email"),
            "as_of": result.as_of,
            "segments": [r.as_dict() for r in result.segments],
        }
        print_records([record], as_json=True)
        return
    rows = [
        {
            "segment": r.segment,
            "family": r.family,
            "rule": r.rule,
            "because": ", ".join([*(f"{k} = {_shown(v)}" for k, v in r.values.items()), *r.calls]),
        }
        for r in result.segments
    ]
    who = found.get("email") or result.customer_id
    title = f"{who} ({result.customer_id}): {len(rows)} segments as of {result.as_of}"
    print_records(rows, as_json=False, title=title)


def _find_customer(ws: Workspace, key: str) -> dict[str, Any]:
    found = ws.find_customer(key)
    if found is None:
        raise ConfigError(f"no customer matches '{key}'")
    return found


def _shown(value: Any) -> str:
    return "empty" if value is None else str(value)


# -- looking at the workspace ----------------------------------------------------------------
@app.command()
def summary(as_json: JsonOption = False) -> None:
    """Customers, orders, revenue, date range and rejects in the workspace."""
    with open_workspace() as ws:
        values = ws.summary()
    print_records(
        [{"metric": k, "value": v} for k, v in values.items()],
        as_json=as_json,
        title=f"Workspace {State.workspace_path}",
    )


@app.command()
def imports(as_json: JsonOption = False) -> None:
    """Every import: file, format, checksum and row counts."""
    with open_workspace() as ws:
        records = ws.imports().to_pylist()
    print_records(records, as_json=as_json, title="Imports")


@app.command()
def rejects(
    import_id: Annotated[int | None, typer.Option("--import", help="Only this import.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many rows (0: all).")] = 50,
    as_json: JsonOption = False,
) -> None:
    """Rejected rows with file, row number, column, raw value and reason."""
    with open_workspace() as ws:
        records = ws.rejects(import_id, limit=limit or None).to_pylist()
    print_records(records, as_json=as_json, title="Rejected rows")


@app.command()
def customer(key: CustomerKey, as_json: JsonOption = False) -> None:
    """One customer's profile, found by any identifier."""
    with open_workspace() as ws:
        found = _find_customer(ws, key)
    print_records(
        [{"field": k, "value": v} for k, v in found.items()],
        as_json=as_json,
        title=found["customer_id"],
    )


@app.command()
def formats(as_json: JsonOption = False) -> None:
    """The file formats segmint reads and the columns that identify each."""
    from segmint.importers import FORMATS

    records = [
        {
            "format": f.name,
            "description": f.description,
            "identifying_columns": ", ".join(f.signature),
        }
        for f in FORMATS
    ]
    print_records(records, as_json=as_json, title="Formats")


settings_app = typer.Typer(help="Show or change workspace settings.", no_args_is_help=False)
app.add_typer(settings_app, name="settings")


@settings_app.callback(invoke_without_command=True)
def settings_show(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Show the workspace settings."""
    if ctx.invoked_subcommand:
        return
    with open_workspace() as ws:
        values = dict(ws.settings.values)
    from segmint.settings import DEFAULTS

    merged = {**DEFAULTS, **values}
    print_records(
        [{"setting": k, "value": v} for k, v in sorted(merged.items())],
        as_json=as_json,
        title="Settings",
    )


@settings_app.command("set")
def settings_set(key: str, value: str) -> None:
    """Change a setting (time zone, currency, fx_rates, channel_map, thresholds)."""
    with open_workspace() as ws:
        stored = ws.set_setting(key, value)
    stdout.print(f"{key} = {stored!r}")


# -- demo -----------------------------------------------------------------------------------
DEMO_HISTORY = "6m"  # months of segment history the demo backfills
DEMO_CAMPAIGN_COLUMNS = [
    "arm",
    "metric",
    "value",
    "control_value",
    "absolute_lift",
    "ci_low",
    "ci_high",
    "p_value",
    "verdict",
    "true_lift",
]


#: Fewer customers than this leave the demo's clusters and campaign with nobody to describe.
DEMO_MIN_CUSTOMERS = 10


@app.command()
def demo(
    customers: Annotated[
        int, typer.Option(min=DEMO_MIN_CUSTOMERS, help="Customers in the synthetic store.")
    ] = 5000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 42,
    out: Annotated[Path, typer.Option(help="Where the demo export files go.")] = Path("demo-data"),
    as_json: JsonOption = False,
) -> None:
    """Generate a realistic synthetic store with a past campaign, import its exports, and
    summarize it."""
    from segmint.campaigns.report import campaign_report
    from segmint.demo import build_demo_store
    from segmint.demo_campaign import run_past_campaign
    from segmint.validate import validate_model

    with stderr.status("Generating the demo store's export files..."):
        store = build_demo_store(out, customers=customers, seed=seed)
    with open_workspace() as ws:
        files = store.files
        paths = [files.products, files.customers, files.orders, files.events]
        results = [_import_with_progress(ws, p, ImportOptions(), quiet=as_json) for p in paths]
        with stderr.status("Sending the demo's win-back campaign...") as status:
            if as_json:
                status.stop()
            ws.refresh()
            past = run_past_campaign(ws, store, out)
        window = [past.window.orders, past.window.events] if past else []
        results += [_import_with_progress(ws, p, ImportOptions(), quiet=as_json) for p in window]
        with stderr.status("Fitting models and computing customer features...") as status:
            if as_json:
                status.stop()
            ws.predict(then_refresh=False)
            ws.refresh()
            clusters = ws.cluster()
            refreshed = clusters.refreshed
            ws.backfill(DEMO_HISTORY, "month")
            validate_model(ws.store)  # holdout calibration and churn lift for the Models page
        values = ws.summary()
        report = campaign_report(ws.store, past.created.campaign.name) if past else None
        if as_json:
            print_records([{"metric": k, "value": v} for k, v in values.items()], as_json=True)
            return
        print_records(
            [_result_record(r) for r in results],
            as_json=False,
            title="Imports",
            columns=IMPORT_COLUMNS,
            transpose=True,
        )
        for result in results:
            _print_reject_preview(ws, result, limit=3)
        groups = _rfm_group_sizes(ws)
    print_records(
        [{"metric": k, "value": v} for k, v in values.items()],
        as_json=False,
        title=f"Workspace {State.workspace_path}",
    )
    print_records(
        groups,
        as_json=False,
        title=f"RFM groups as of {refreshed.as_of}",
    )
    print_records(
        clusters.profile_records(),
        as_json=False,
        title=f"Behavioural clusters ({clusters.model.k}); rules can use cluster = '<id>'",
        columns=CLUSTER_COLUMNS[:6],
    )
    if report and past:
        _print_demo_campaign(report, past.window.outcomes)
    else:
        print_warnings(["the store is too small for the demo's past campaign: nobody to send it"])


def _print_demo_campaign(report: Report, truth: PotentialOutcomes) -> None:
    """The past campaign's measured lift next to the effect the generator put in."""
    true_lift = {r["metric"]: r["true_lift"] for r in truth.true_effect()}
    rows = [
        {**{c: row[c] for c in DEMO_CAMPAIGN_COLUMNS[:-1]}, "true_lift": true_lift[row["metric"]]}
        for row in report.rows
        if row["metric"] in true_lift and row["absolute_lift"] is not None
    ]
    span = report.span
    print_records(
        rows,
        as_json=False,
        title=(
            f"Past campaign '{report.campaign.name}' to {report.campaign.segment}, "
            f"{span.first} to {span.last} (segmint campaign report shows all of it)"
        ),
        columns=DEMO_CAMPAIGN_COLUMNS,
    )


def _rfm_group_sizes(ws: Workspace) -> list[dict[str, Any]]:
    features = ws.features()
    sizes = features.group_by("rfm_group").aggregate(
        customers=features.count(), amount_spent=features.amount_spent.sum()
    )
    rows = sizes.order_by(ibis.desc("customers")).to_pyarrow().to_pylist()
    total = sum(r["customers"] for r in rows) or 1
    return [
        {
            "rfm_group": r["rfm_group"] or "(no orders)",
            "customers": r["customers"],
            "share": f"{r['customers'] / total:.1%}",
            "amount_spent": r["amount_spent"],
        }
        for r in rows
    ]


# Commands defined in their own modules register themselves on ``app`` when imported.
from segmint.cli import activation as _activation  # noqa: E402, F401
from segmint.cli import campaigns as _campaigns  # noqa: E402, F401
from segmint.cli import erase as _erase  # noqa: E402, F401
from segmint.cli import measure as _measure  # noqa: E402, F401
from segmint.cli import report as _report  # noqa: E402, F401
from segmint.cli import serve as _serve  # noqa: E402, F401
from segmint.cli import storefront as _storefront  # noqa: E402, F401
from segmint.cli import webhooks as _webhooks  # noqa: E402, F401


def main() -> None:
    app()
