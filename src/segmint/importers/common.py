"""Helpers several importers share: duplicates, currency, channels, tags, rejects."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc

from segmint.currencies import ISO_4217
from segmint.importers.base import ImportContext
from segmint.readers.base import ROW, Reject
from segmint.settings import UNKNOWN_CHANNEL, UNKNOWN_NUMERIC_CHANNEL
from segmint.store import Store
from segmint.timezones import most_common_offset

OFFSET_AT_END = re.compile(r"[+-]\d{2}:?\d{2}$")


def drop_exact_duplicates(store: Store, table: pa.Table) -> tuple[pa.Table, list[Reject]]:
    """Reject rows identical in every column to an earlier row, naming that row.

    Rows are first bucketed by a hash of all their cells (DuckDB scans the Arrow table in
    place); only rows in a bucket shared with another row are compared cell by cell.
    """
    data_columns = [c for c in table.column_names if not c.startswith("_")]
    if not data_columns or table.num_rows < 2:
        return table, []
    with store.arrow("_dedup_rows", table) as rows:
        hashed = rows.select(ROW, _hash=ibis.struct({c: rows[c] for c in data_columns}).hash())
        counts = hashed.group_by("_hash").aggregate(_n=ibis._.count())
        shared = counts.filter(counts._n > 1)
        candidates = hashed.semi_join(shared, "_hash").select(ROW).to_pyarrow()
    if candidates.num_rows == 0:
        return table, []
    suspects = table.filter(pc.is_in(table[ROW], value_set=candidates[ROW].combine_chunks()))
    with store.arrow("_dedup_suspects", suspects) as staged:
        window = ibis.window(group_by=[staged[c] for c in data_columns], order_by=staged[ROW])
        ranked = staged.mutate(
            _copy=ibis.row_number().over(window), _original=staged[ROW].min().over(window)
        )
        dups = ranked.filter(ranked._copy > 0).select(ROW, "_original").order_by(ROW)
        dups = dups.to_pyarrow()
    if dups.num_rows == 0:
        return table, []
    rejects = [
        Reject(row, None, None, f"exact duplicate (of row {original})")
        for row, original in zip(dups[ROW].to_pylist(), dups["_original"].to_pylist(), strict=True)
    ]
    keep = pc.invert(pc.is_in(table[ROW], value_set=dups[ROW].combine_chunks()))
    return table.filter(keep), rejects


def first_in_file_order(rows: ir.Table, column: str) -> ir.Value:
    """Aggregate: the column's first non-null value in file (row) order.

    Ibis writes ``argmin`` as an ordered ``first`` on DuckDB (``FIRST(x ORDER BY row)``), which
    buffers a group's values: fine for the few rows an order or a customer has in one file.
    """
    return rows[column].argmin(rows[ROW], where=rows[column].notnull())


def learn_currency(
    ctx: ImportContext,
    seen: pa.ChunkedArray | Iterable[str | None],
    default: str | None = None,
) -> str:
    """The workspace currency: set, given, or the most common one in this file."""
    if ctx.currency:
        return ctx.currency
    counts = _currency_counts(seen)
    currency = ctx.options.currency or (counts.most_common(1)[0][0] if counts else default) or "USD"
    ctx.setting_updates["currency"] = currency.upper()
    return currency.upper()


def _currency_counts(seen: pa.ChunkedArray | Iterable[str | None]) -> Counter[str]:
    """ISO 4217 codes and how often each appears, in order of first appearance."""
    if isinstance(seen, pa.ChunkedArray | pa.Array):
        tally = pc.value_counts(pc.utf8_upper(pc.utf8_trim_whitespace(seen)))
        pairs = zip(
            tally.field("values").to_pylist(), tally.field("counts").to_pylist(), strict=True
        )
        return Counter({code: n for code, n in pairs if code in ISO_4217})
    return Counter(c.strip().upper() for c in seen if c and c.strip().upper() in ISO_4217)


def learn_timezone(ctx: ImportContext, texts: Iterable[str | None]) -> str:
    """The workspace zone: set, given, or the store's UTC offset as written in the export."""
    if ctx.options.timezone and not ctx.settings["timezone"]:
        ctx.setting_updates["timezone"] = ctx.options.timezone
    elif not ctx.settings["timezone"]:
        offset = most_common_offset(_trailing_offsets(texts))
        if offset:
            ctx.setting_updates["timezone"] = offset
    return ctx.timezone


def _trailing_offsets(texts: Iterable[str | None]) -> Iterator[str]:
    """The UTC offsets written at the end of timestamps: ``-0500`` or ``-05:00``."""
    for text in texts:
        found = OFFSET_AT_END.search(text.strip()) if text else None
        if found:
            yield found.group(0)


def currency_problem(currency: ir.StringValue, ctx: ImportContext) -> ir.StringValue:
    """Why an order's currency cannot be loaded, or null when it can."""
    rates = ctx.settings["fx_rates"] or {}
    workspace = ctx.currency
    return ibis.cases(
        (~currency.isin(sorted(ISO_4217)), "unknown currency (not an ISO 4217 code)"),
        (
            (currency != workspace) & ~currency.isin(sorted(rates) or ["-"]),
            f"currency differs from the workspace currency {workspace} and no exchange rate "
            "is set (segmint settings set fx_rates '{\"EUR\": 1.08}')",
        ),
        else_=ibis.null("string"),
    )


def fx_rate(currency: ir.StringValue, ctx: ImportContext) -> ir.NumericValue:
    """Units of workspace currency per unit of ``currency`` (1 for the workspace's own)."""
    rates = {k.upper(): float(v) for k, v in (ctx.settings["fx_rates"] or {}).items()}
    branches = [(currency == code, rate) for code, rate in sorted(rates.items())]
    rate = ibis.cases(*branches, else_=1.0) if branches else ibis.literal(1.0)
    return rate.cast("decimal(18, 8)")


def channel_of(source: ir.StringValue, channel_map: dict[str, str]) -> ir.StringValue:
    """The channel for a Shopify ``Source`` value, through the workspace's channel map."""
    value = source.strip().lower()
    branches = [(value == key.lower(), channel) for key, channel in sorted(channel_map.items())]
    return ibis.cases(
        (value.isnull(), "web"),
        *branches,
        (value.re_search(r"^[0-9]+$"), UNKNOWN_NUMERIC_CHANNEL),
        else_=UNKNOWN_CHANNEL,
    )


def split_list(text: ir.StringValue) -> ir.ArrayValue:
    """``"VIP, wholesale"`` -> ``["VIP", "wholesale"]``; blank -> null."""
    parts = text.split(",").map(lambda p: p.strip()).filter(lambda p: p.length() > 0)
    return ibis.ifelse(text.isnull() | (parts.length() == 0), ibis.null("array<string>"), parts)


def consent_from_flag(flag: ir.BooleanValue) -> ir.StringValue:
    """Shopify's yes/no marketing flag as a consent state."""
    return ibis.cases((flag, "subscribed"), (~flag, "not_subscribed"), else_=ibis.null("string"))


def money(value: ir.NumericValue) -> ir.NumericValue:
    return value.cast("decimal(18, 2)")


def rejects_for_groups(
    groups: pa.Table, rows: pa.Table, group_column: str, label: str
) -> list[Reject]:
    """Reject every row of rejected groups (orders): the first row names the cause.

    ``groups`` has the group key, ``first_row``, ``column``, ``raw`` and ``reason``; ``rows``
    has the group key and ``_row`` of every row of those groups.
    """
    causes = {
        key: (first, column, raw, reason)
        for key, first, column, raw, reason in zip(
            *(
                groups[c].to_pylist()
                for c in (group_column, "first_row", "column", "raw", "reason")
            ),
            strict=False,
        )
    }
    out = []
    for key, row in zip(rows[group_column].to_pylist(), rows[ROW].to_pylist(), strict=True):
        first, column, raw, reason = causes[key]
        if row == first:
            out.append(Reject(row, column, raw, reason))
        else:
            out.append(
                Reject(
                    row, None, None, f"part of a rejected {label} ({label} {key}, see row {first})"
                )
            )
    return out
