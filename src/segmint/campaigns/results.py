"""Campaign results CSV: what the sending platform says happened to each recipient.

One row per recipient: ``email`` or ``customer_id`` (a segmint id, or one merged into it),
``variant``, and any of ``sent``, ``opened``, ``clicked``, ``unsubscribed``, ``ordered``
(true/false, yes/no, 1/0) and ``revenue`` (a number in the workspace currency). Each row is
loaded or rejected with its file, row, column and reason; importing a file for a campaign
replaces the results imported for it before. The format is in ``docs/campaigns.md``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa

from segmint.campaigns.registry import assignments, load_campaign
from segmint.errors import ConfigError
from segmint.normalize import normalize_email
from segmint.schema import MONEY
from segmint.store import Store

FLAGS = ("sent", "opened", "clicked", "unsubscribed", "ordered")
TRUE = {"true", "yes", "1", "y", "t"}
FALSE = {"false", "no", "0", "n", "f", ""}


@dataclass(frozen=True)
class Reject:
    file: str
    row: int
    column: str
    value: str
    reason: str

    def message(self) -> str:
        return f"{self.file}, row {self.row}, column {self.column} ({self.value!r}): {self.reason}"


@dataclass
class ResultsImport:
    file: str
    rows_read: int = 0
    rows_loaded: int = 0
    rejects: list[Reject] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "rows_read": self.rows_read,
            "rows_loaded": self.rows_loaded,
            "rows_rejected": len(self.rejects),
        }


def import_results(store: Store, name: str, path: Path) -> ResultsImport:
    """Load a campaign results CSV for campaign ``name``."""
    campaign = load_campaign(store, name)
    rows, header = _read(path)
    if "variant" not in header or not ({"email", "customer_id"} & set(header)):
        raise ConfigError(
            f"{path}: a campaign results file needs a 'variant' column and an 'email' or "
            f"'customer_id' column (found: {', '.join(header)})",
            hint="see docs/campaigns.md",
        )
    result = ResultsImport(str(path), rows_read=len(rows))
    owners = _owners(store, campaign.campaign_id, rows)
    seen: set[str] = set()
    loaded = []
    for number, row in rows:
        parsed = _parse(row, number, path.name, owners.get(number), seen)
        if isinstance(parsed, Reject):
            result.rejects.append(parsed)
        else:
            loaded.append(
                {
                    "campaign_id": campaign.campaign_id,
                    **parsed,
                    "file": str(path),
                    "row_number": number,
                }
            )
    result.rows_loaded = len(loaded)
    table = pa.Table.from_pylist(loaded, schema=_schema()) if loaded else None
    store.stage("_results_campaign", pa.table({"campaign_id": [campaign.campaign_id]}))
    with store.transaction():
        store.delete_matching("campaign_results", "_results_campaign", ["campaign_id"])
        if table is not None:
            store.insert("campaign_results", table)
    return result


def _read(path: Path) -> tuple[list[tuple[int, dict[str, str]]], list[str]]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            header = [h.strip().lower() for h in (reader.fieldnames or [])]
            rows = []
            for row in reader:
                values = {h: (v or "").strip() for h, v in zip(header, row.values(), strict=False)}
                rows.append((reader.line_num, values))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    return rows, header


def _owners(
    store: Store, campaign_id: int, rows: list[tuple[int, dict[str, str]]]
) -> dict[int, tuple[str, str]]:
    """Row number -> (customer id, assigned arm) for the rows naming an assigned customer."""
    keys = [(n, row.get("customer_id", ""), row.get("email", "").lower()) for n, row in rows]
    probe = ibis.memtable(
        pa.table(
            {
                "row": [k[0] for k in keys],
                "cid": [k[1] for k in keys],
                "email": [k[2] for k in keys],
            }
        )
    )
    probe = probe.mutate(identity="email:" + normalize_email(probe.email))
    identities = store.table("identities").select("identity", by_email="customer_id")
    merges = store.table("merges").select("merged_id", "surviving_id")
    by_email = probe.left_join(identities, "identity").drop("identity_right")
    by_email = store.stage("_results_by_email", by_email)
    joined = by_email.left_join(merges, by_email.cid == merges.merged_id)
    given = ibis.ifelse(joined.cid == "", ibis.null("string"), joined.cid)
    joined = store.stage(
        "_results_owners",
        joined.select(
            "row", customer_id=ibis.coalesce(joined.surviving_id, given, joined.by_email)
        ),
    )
    assigned = assignments(store, campaign_id)
    owned = joined.join(assigned, "customer_id").select("row", "customer_id", "arm")
    return {r["row"]: (r["customer_id"], r["arm"]) for r in store.run(owned).to_pylist()}


def _parse(
    row: dict[str, str], number: int, file: str, owner: tuple[str, str] | None, seen: set[str]
) -> dict[str, Any] | Reject:
    key_column = "customer_id" if row.get("customer_id") else "email"
    if owner is None:
        return Reject(
            file,
            number,
            key_column,
            row.get(key_column, ""),
            "not a customer this campaign assigned",
        )
    customer_id, arm = owner
    if row["variant"] != arm:
        return Reject(
            file, number, "variant", row["variant"], f"segmint assigned this customer to '{arm}'"
        )
    if customer_id in seen:
        return Reject(
            file,
            number,
            key_column,
            row.get(key_column, ""),
            "the same customer is on an earlier row",
        )
    parsed: dict[str, Any] = {"customer_id": customer_id, "arm": arm}
    for flag in FLAGS:
        text = row.get(flag, "").lower()
        if text not in TRUE | FALSE:
            return Reject(file, number, flag, row.get(flag, ""), "not true/false, yes/no or 1/0")
        parsed[flag] = text in TRUE if flag in row else None
    revenue = row.get("revenue", "")
    try:
        parsed["revenue"] = Decimal(revenue.replace(",", "")) if revenue else None
    except InvalidOperation:
        return Reject(file, number, "revenue", revenue, "not a number")
    if parsed["revenue"] is not None and parsed["revenue"] < 0:
        return Reject(file, number, "revenue", revenue, "negative revenue")
    seen.add(customer_id)
    return parsed


def _schema() -> pa.Schema:
    return pa.schema(
        [
            ("campaign_id", pa.int64()),
            ("customer_id", pa.string()),
            ("arm", pa.string()),
            *[(flag, pa.bool_()) for flag in FLAGS],
            ("revenue", MONEY.to_pyarrow()),
            ("file", pa.string()),
            ("row_number", pa.int64()),
        ]
    )
