"""Global suppressions: emails and phones no export may contain, kept only as hashes.

A suppression is the SHA-256 of a normalized identifier (a trimmed, lower-cased email or an
E.164 phone, :mod:`segmint.normalize`), so the list can hold erased people's tombstones
without keeping who they were. Exports compare the same hashes of each customer's email and
phone. Tombstones also hash the erased person's source ids (``shopify:123``) and segmint ids,
which only the import guard reads.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from segmint.errors import InputFileError
from segmint.normalize import normalize_email, normalize_phone
from segmint.store import Store, utcnow

TABLE = "suppressions"
#: ``reason`` of the tombstones ``segmint erase`` leaves.
ERASED = "erased"
#: Header cells (lower-cased) that name an email or a phone column in a suppression file.
EMAIL_HEADERS = ("email", "email address", "e-mail", "email_address", "$email")
PHONE_HEADERS = ("phone", "phone number", "phone_number", "sms", "$phone_number")


def identifier_hash(normalized: ir.StringValue) -> ir.StringValue:
    """SHA-256, lowercase hex, of a normalized identifier (null stays null)."""
    return normalized.hexdigest("sha256")


@dataclass
class SuppressionResult:
    """What ``segmint suppress add`` did with each value it read."""

    read: int = 0
    added: int = 0
    already: int = 0
    rejected: list[dict[str, object]] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "read": self.read,
            "added": self.added,
            "already_suppressed": self.already,
            "rejected": len(self.rejected),
        }


def add_values(
    store: Store, values: list[str], reason: str, source: str, country: str, first_row: int = 1
) -> SuppressionResult:
    """Suppress each email or phone of ``values`` (row numbers from ``first_row``)."""
    result = SuppressionResult(read=len(values))
    if not values:
        return result
    rows = ibis.memtable(
        pa.table({"row": list(range(first_row, first_row + len(values))), "raw": values})
    )
    email = normalize_email(rows.raw)
    phone = ibis.ifelse(
        rows.raw.contains("@"), ibis.null("string"), normalize_phone(rows.raw, country)
    )
    kind = ibis.cases(
        (email.notnull(), "email"), (phone.notnull(), "phone"), else_=ibis.null("string")
    )
    parsed = rows.select(
        "row",
        "raw",
        kind=kind,
        value_hash=identifier_hash(ibis.coalesce(email, phone)),
    )
    found = parsed.to_pyarrow().to_pylist()
    result.rejected = [
        {"row": r["row"], "value": r["raw"], "reason": _why_unusable(r["raw"])}
        for r in found
        if r["kind"] is None
    ]
    usable = {(r["kind"], r["value_hash"]) for r in found if r["kind"] is not None}
    known = _known(store)
    new = sorted(usable - known)
    result.already = sum(1 for r in found if r["kind"] is not None) - len(new)
    result.added = len(new)
    if new:
        store.insert(TABLE, _rows(new, reason, source))
    return result


def add_file(store: Store, path: Path, reason: str, country: str) -> SuppressionResult:
    """Suppress every email or phone in a file: a CSV with an email or phone column
    (Klaviyo's and Mailchimp's suppression exports), or one value per line."""
    values, first_row = read_values(path)
    return add_values(store, values, reason, str(path.resolve()), country, first_row)


def add_tombstones(store: Store, identifiers: list[tuple[str, str]]) -> None:
    """Suppress an erased person's identifiers, ``(kind, normalized value)`` pairs: emails,
    phones, source ids such as ``shopify:123`` and segmint ids (hashed here, never stored)."""
    probe = ibis.memtable(
        pa.table(
            {"kind": [k for k, _ in identifiers], "value": [v for _, v in identifiers]},
            schema=pa.schema([("kind", pa.string()), ("value", pa.string())]),
        )
    )
    hashed = probe.select("kind", value_hash=identifier_hash(probe.value)).to_pyarrow()
    pairs = zip(hashed["kind"].to_pylist(), hashed["value_hash"].to_pylist(), strict=True)
    new = sorted(set(pairs) - _known(store, reason=ERASED))
    if new:
        store.insert(TABLE, _rows(new, ERASED, "erasure"))


def read_values(path: Path) -> tuple[list[str], int]:
    """The values of a suppression file and the file row number of the first one."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            lines = list(csv.reader(handle))
    except FileNotFoundError:
        raise InputFileError(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise InputFileError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    lines = [line for line in lines if any(cell.strip() for cell in line)]
    if not lines:
        raise InputFileError(f"{path}: the file is empty", hint="give one email or phone per line")
    header = [cell.strip().lower() for cell in lines[0]]
    columns = [i for i, cell in enumerate(header) if cell in EMAIL_HEADERS + PHONE_HEADERS]
    if not columns:
        return [line[0] for line in lines], 1
    values = []
    for line in lines[1:]:
        cells = [line[i].strip() for i in columns if i < len(line) and line[i].strip()]
        values.append(cells[0] if cells else "")
    return values, 2


def suppressed_hashes(store: Store) -> ir.Table:
    """``kind, value_hash`` of every suppression."""
    return store.table(TABLE).select("kind", "value_hash").distinct()


def _known(store: Store, reason: str | None = None) -> set[tuple[str, str]]:
    """``(kind, value_hash)`` of the suppressions (only those with ``reason`` if given)."""
    suppressions = store.table(TABLE)
    if reason is not None:
        suppressions = suppressions.filter(suppressions.reason == reason)
    known = suppressions.select("kind", "value_hash").distinct().to_pyarrow()
    return set(zip(known["kind"].to_pylist(), known["value_hash"].to_pylist(), strict=True))


def _rows(keys: list[tuple[str, str]], reason: str, source: str) -> pa.Table:
    now = utcnow()
    return pa.table(
        {
            "kind": [k for k, _ in keys],
            "value_hash": [h for _, h in keys],
            "reason": [reason] * len(keys),
            "source": [source] * len(keys),
            "added_at": pa.array([now] * len(keys), pa.timestamp("us")),
        }
    )


def _why_unusable(raw: str) -> str:
    if not raw.strip():
        return "empty value"
    if "@" in raw:
        return "not a valid email address"
    return "neither an email address nor a phone number with a country code"
