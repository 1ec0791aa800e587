"""``segmint export``: write a segment's audience for a destination and record it.

The audience comes from :mod:`.audience` (consent, suppression, exclusions, the funnel), the
columns from :mod:`.destinations`; the file is written in batches, its SHA-256 and funnel go
to ``exports`` and who it contained to ``export_members``. With ``changes_since_last`` the
customers who entered and those who left since the previous export of the segment to the
destination are written as two files instead.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.parquet as pq

from segmint.activation.audience import Funnel, SegmentRef, audience, funnel, segment_ref
from segmint.activation.destinations import (
    ExportOptions,
    columns,
    destination_for,
    segment_tag,
)
from segmint.errors import ConfigError, did_you_mean
from segmint.features.tables import stored_features
from segmint.importing import file_checksum
from segmint.store import Store, utcnow

FULL = "full"
CHANGES = "changes"


@dataclass
class ExportResult:
    """One export: its files, funnel and warnings."""

    export_id: int
    segment: str
    destination: str
    files: list[Path]
    funnel: Funnel
    warnings: list[str] = field(default_factory=list)
    entered: int | None = None
    left: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "export_id": self.export_id,
            "segment": self.segment,
            "destination": self.destination,
            "files": [str(f) for f in self.files],
            **self.funnel.as_dict(),
            "entered": self.entered,
            "left": self.left,
            "warnings": self.warnings,
        }


def export_segment(
    store: Store,
    slug: str,
    destination: str,
    out: Path | None = None,
    exclude: list[str] | None = None,
    options: ExportOptions | None = None,
    changes_since_last: bool = False,
    plan: str | None = None,
    allow_overlap: bool = False,
) -> ExportResult:
    """Write ``slug``'s audience for ``destination`` and record the export (as part of
    ``plan``: a warning names customers already in another export of it, unless
    ``allow_overlap``)."""
    options = options or ExportOptions()
    target = destination_for(destination, options)
    segment = segment_ref(store, slug)
    exclude = list(exclude or [])
    rows = audience(store, segment, target.channel, target.usable, exclude, list(options.features))
    rows = with_value(store, rows, destination, options).mutate(
        _segment_slug=ibis.literal(segment.slug), _tag=ibis.literal(segment_tag(segment.name))
    )
    staged = store.stage("_export_audience", rows)
    counts = funnel(staged)
    exported = staged.filter(staged.step == "exported")
    out = out or default_path(segment, destination, target.file_format)
    spec = columns(destination, options, segment.name)
    warnings = audience_warnings(counts.exported, segment, target)
    if destination == "shopify-tags":
        warnings += shopify_tag_warnings(staged)
    if plan is not None and not allow_overlap:
        warnings += overlap_warnings(store, plan, exported)
    entered = left = None
    if changes_since_last:
        previous = _previous_members(store, slug, destination)
        current = exported.select("customer_id")
        entered_rows = exported.anti_join(previous, "customer_id")
        left_rows = staged.semi_join(previous, "customer_id").anti_join(current, "customer_id")
        files = [_changes_path(out, "entered"), _changes_path(out, "left")]
        entered = write_file(entered_rows, spec, files[0], target.file_format)
        left = write_file(left_rows, spec, files[1], target.file_format)
        if previous.count().to_pyarrow().as_py() == 0:
            warnings.append(f"no earlier export of {slug!r} to {destination}: every member is new")
    else:
        files = [out]
        write_file(exported, spec, out, target.file_format)
    recorded = {
        "exclude": exclude,
        "features": list(options.features),
        "value": options.value,
        "channel": options.channel,
        "plan": plan,
        "files": [str(f.resolve()) for f in files],
    }
    export_id = record_export(
        store,
        segment,
        destination,
        target.channel,
        files[0],
        counts,
        warnings,
        CHANGES if changes_since_last else FULL,
        recorded,
        exported,
    )
    return ExportResult(
        export_id, slug, destination, files, counts, warnings, entered=entered, left=left
    )


def default_path(segment: SegmentRef, destination: str, file_format: str) -> Path:
    """``<segment>-<destination>-<as of>.csv`` in the current folder."""
    return Path(f"{segment.slug}-{destination}-{segment.as_of}.{file_format}")


def _changes_path(out: Path, kind: str) -> Path:
    return out.with_name(f"{out.stem}.{kind}{out.suffix}")


def audience_warnings(exported: int, segment: SegmentRef, target: Any) -> list[str]:
    """Flags for an audience smaller than the platform's or the workspace's minimum."""
    found = []
    if target.minimum is not None and exported < target.minimum:
        found.append(
            f"{exported} customers exported, fewer than {target.name}'s minimum of "
            f"{target.minimum:,} ({target.minimum_source})"
        )
    if exported < segment.min_audience:
        found.append(
            f"{exported} customers exported, fewer than the workspace's minimum audience of "
            f"{segment.min_audience} (guards.min_audience in segments.yaml)"
        )
    return found


def overlap_warnings(store: Store, plan: str, exported: ir.Table) -> list[str]:
    """Customers of this export already in another export of the same plan."""
    exports = store.table("exports")
    earlier = exports.filter(exports.plan == plan).select("export_id", "segment")
    members = store.table("export_members").join(earlier, "export_id")
    shared = members.semi_join(exported, "customer_id")
    counts = shared.group_by("segment").aggregate(n=shared.customer_id.nunique())
    return [
        f"{row['n']} customers are also in the export of {row['segment']!r} of plan {plan!r}: "
        "they would get two campaigns (allow it with --allow-overlap)"
        for row in counts.order_by("segment").to_pyarrow().to_pylist()
    ]


def shopify_tag_warnings(staged: ir.Table) -> list[str]:
    """Say which customers import the tags come from, and who was left out for want of one."""
    exported = staged.filter(staged.step == "exported")
    dates = (
        exported.aggregate(latest=exported.tags_as_of.max(), oldest=exported.tags_as_of.min())
        .to_pyarrow()
        .to_pylist()[0]
    )
    unknown = staged.filter((staged.step == "no_identifier") & staged.tags_as_of.isnull())
    found = []
    if dates["latest"] is not None:
        since = dates["latest"].date().isoformat()
        oldest = dates["oldest"].date().isoformat()
        span = since if since == oldest else f"{oldest} to {since}"
        found.append(
            f"each member's tags are those of the latest customers import ({span}): importing "
            "with 'Overwrite existing customers' replaces their tags, so tags changed in "
            "Shopify since then would be lost; export and import the customers again first"
        )
    missing = int(unknown.count().to_pyarrow().as_py())
    if missing:
        found.append(
            f"{missing} members are not in any customers import, so their Shopify tags are "
            "unknown: left out (counted as no identifier) rather than overwrite their tags"
        )
    return found


def with_value(store: Store, rows: ir.Table, destination: str, options: ExportOptions) -> ir.Table:
    """``rows`` plus ``_value``: for Meta, the chosen feature (default: predicted 12-month CLV
    when predictions exist, else net sales), never negative, to the cent; else empty."""
    if destination != "meta":
        return rows.mutate(_value=ibis.null("float64"))
    features = stored_features(store)
    name = options.value or _default_value(features)
    if name not in features.columns:
        raise ConfigError(
            f"--value: unknown feature {name!r}",
            hint=did_you_mean(name, features.columns) or "see docs/features.md",
        )
    if not features[name].type().is_numeric():
        raise ConfigError(f"--value: feature {name!r} is not a number")
    values = features.select("customer_id", _raw=features[name].cast("float64"))
    joined = rows.left_join(values, "customer_id").drop("customer_id_right")
    value = ibis.greatest(joined._raw.fill_null(0.0), 0.0).round(2)
    return joined.mutate(_value=value).drop("_raw")


def _default_value(features: ir.Table) -> str:
    predicted = "predicted_clv_12m"
    if predicted in features.columns and features[predicted].notnull().any().to_pyarrow().as_py():
        return predicted
    return "net_sales"


def _previous_members(store: Store, slug: str, destination: str) -> ir.Table:
    """Who the latest earlier export of ``slug`` to ``destination`` targeted."""
    exports = store.table("exports")
    mine = exports.filter((exports.segment == slug) & (exports.destination == destination))
    latest = mine.export_id.max().to_pyarrow().as_py()
    members = store.table("export_members")
    return members.filter(members.export_id == ibis.literal(latest or -1, "int64")).select(
        "customer_id"
    )


def record_export(
    store: Store,
    segment: SegmentRef,
    destination: str,
    channel: str,
    file: Path,
    counts: Funnel,
    warnings: list[str],
    kind: str,
    options: dict[str, Any],
    exported: ir.Table,
) -> int:
    """Add the ``exports`` row and the audience to ``export_members``; the new id."""
    with store.transaction():
        export_id = store.next_id("exports", "export_id")
        row = {
            "export_id": export_id,
            "segment": segment.slug,
            "destination": destination,
            "channel": channel,
            "refresh_id": segment.refresh_id,
            "segment_version": segment.version,
            "kind": kind,
            "plan": options.get("plan"),
            "file": str(file.resolve()),
            "checksum": file_checksum(file),
            **counts.as_dict(),
            "options": json.dumps(options, sort_keys=True),
            "warnings": json.dumps(warnings),
            "created_at": utcnow(),
        }
        store.insert("exports", pa.Table.from_pylist([row]))
        store.insert(
            "export_members",
            exported.select(export_id=ibis.literal(export_id, "int64"), customer_id="customer_id"),
        )
    return export_id


def write_file(rows: ir.Table, spec: list[tuple[str, Any]], path: Path, file_format: str) -> int:
    """Write ``rows`` (ordered by customer id) as the destination's file; rows written."""
    projected = rows.order_by("customer_id").select(
        **{f"c{i}": column(rows) for i, (_, column) in enumerate(spec)}
    )
    headers = [header for header, _ in spec]
    path.parent.mkdir(parents=True, exist_ok=True)
    if file_format == "parquet":
        table = projected.to_pyarrow().rename_columns(headers)
        pq.write_table(table, path)
        return table.num_rows
    written = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(headers)
        for batch in projected.to_pyarrow_batches(chunk_size=50_000):
            for row in _rows(batch):
                writer.writerow(row)
                written += 1
    return written


def _rows(batch: pa.RecordBatch) -> Iterator[list[str]]:
    values = [column.to_pylist() for column in batch.columns]
    for i in range(batch.num_rows):
        yield [cell(column[i]) for column in values]


def cell(value: Any) -> str:
    """A value as a CSV cell: empty for none, ISO dates, ``true``/``false``, lists joined."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "" if value != value else f"{value:.2f}".rstrip("0").rstrip(".")
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list):
        return ", ".join(cell(v) for v in value)
    return str(value)
