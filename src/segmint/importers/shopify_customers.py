"""Shopify customers export (Admin > Customers > Export), current and legacy headers.

The customers export is the authoritative profile source: its non-blank values replace what
orders and events said about a person. ``Note`` lines of the form ``key: value`` (separated
by ``;`` or new lines) become declared attributes; ``gender`` and ``birth_year`` get columns.
"""

from __future__ import annotations

import json
import re

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc

from segmint.importers.base import Batch, ImportContext, Importer
from segmint.importers.common import consent_from_flag, drop_exact_duplicates, split_list
from segmint.normalize import namespaced, normalize_email, normalize_phone
from segmint.parsing import Cells
from segmint.readers import RawTable
from segmint.readers.base import ROW, Reject
from segmint.store import utcnow

NOTE_ATTRIBUTE = re.compile(r"^\s*([A-Za-z][\w ]{0,40}?)\s*:\s*(.+?)\s*$")


class ShopifyCustomersImporter(Importer):
    name = "shopify-customers"
    description = "Shopify customers export CSV (current or legacy header)"
    signature = ("First Name", "Last Name", "Email", "Total Spent", "Total Orders", "Tags")
    optional = (
        "Customer ID",
        "Accepts Email Marketing",
        "Default Address Company",
        "Default Address Address1",
        "Default Address City",
        "Default Address Province Code",
        "Default Address Country Code",
        "Default Address Zip",
        "Default Address Phone",
        "Phone",
        "Accepts SMS Marketing",
        "Note",
    )
    aliases = {
        "Accepts Email Marketing": ("Accepts Marketing",),
        "Default Address Company": ("Company",),
        "Default Address Address1": ("Address1",),
        "Default Address City": ("City",),
        "Default Address Province Code": ("Province Code",),
        "Default Address Country Code": ("Country Code",),
        "Default Address Zip": ("Zip",),
    }

    def build(self, raw: RawTable, ctx: ImportContext) -> Batch:
        table, rejects = drop_exact_duplicates(ctx.store, raw.table)
        duplicates = len(rejects)
        cells = Cells(table, self.column_map(raw.header))
        typed = _typed(cells, float(ctx.settings["max_order_amount"]))
        rejects += cells.rejects()
        bad = pc.is_in(typed[ROW], value_set=pa.array([r.row for r in rejects], pa.int64()))
        typed = typed.filter(pc.invert(bad))
        staged = ctx.store.stage("_shopify_customers", typed)
        staged = ctx.store.stage("_shopify_customers_keyed", _keyed(staged, ctx))
        unlinked = staged.filter(staged.record_key.isnull())
        rejects += _unlinked_rejects(unlinked)
        records = staged.filter(staged.record_key.notnull())
        return Batch(
            rows_loaded=int(records.count().execute()),
            rejects=rejects,
            duplicate_rows=duplicates,
            links=_links(records),
            profiles=_profiles(records),
            profiles_authoritative=True,
        )


def _unlinked_rejects(unlinked: ir.Table) -> list[Reject]:
    rows = unlinked.select(ROW, "email").to_pyarrow()
    return [
        Reject(row, "Email", email, "no Customer ID, Email or Phone: nobody to link it to")
        for row, email in zip(rows[ROW].to_pylist(), rows["email"].to_pylist(), strict=True)
    ]


def _typed(cells: Cells, max_amount: float) -> pa.Table:
    notes = cells.text("Note")
    attributes = [_note_attributes(n) for n in notes.to_pylist()]
    return pa.table(
        {
            ROW: cells.table[ROW],
            "shopify_id": cells.text("Customer ID"),
            "first_name": cells.text("First Name"),
            "last_name": cells.text("Last Name"),
            "email": cells.text("Email"),
            "accepts_email": cells.boolean("Accepts Email Marketing"),
            "accepts_sms": cells.boolean("Accepts SMS Marketing"),
            "company": cells.text("Default Address Company"),
            "address1": cells.text("Default Address Address1"),
            "city": cells.text("Default Address City"),
            "region": cells.text("Default Address Province Code"),
            "country": pc.utf8_upper(cells.text("Default Address Country Code")),
            "zip": cells.text("Default Address Zip"),
            "phone": cells.text("Phone"),
            "address_phone": cells.text("Default Address Phone"),
            "total_spent": cells.decimal(
                "Total Spent", minimum=0, maximum=max_amount * 1000, what="total spent"
            ),
            "total_orders": cells.integer("Total Orders", minimum=0, what="order count"),
            "note": notes,
            "tags": cells.text("Tags"),
            "attributes": pa.array(
                [json.dumps(a, sort_keys=True) if a else None for a in attributes], pa.string()
            ),
            "gender": pa.array([_gender(a.get("gender")) for a in attributes], pa.string()),
            "birth_year": pa.array([_year(a.get("birth_year")) for a in attributes], pa.int32()),
        }
    )


def _note_attributes(note: str | None) -> dict[str, str]:
    """``gender: female; birth_year: 1988`` -> ``{"gender": "female", "birth_year": "1988"}``."""
    if not note:
        return {}
    found = {}
    for part in re.split(r"[;\n]", note):
        match = NOTE_ATTRIBUTE.match(part)
        if match:
            found[match.group(1).strip().lower().replace(" ", "_")] = match.group(2)
    return found


def _gender(value: str | None) -> str | None:
    if not value:
        return None
    first = value.strip().lower()[:1]
    return {"f": "female", "w": "female", "m": "male"}.get(first, value.strip().lower())


def _year(value: str | None) -> int | None:
    if value and value.strip().isdigit() and 1900 <= int(value.strip()) <= 2100:
        return int(value.strip())
    return None


def _keyed(rows: ir.Table, ctx: ImportContext) -> ir.Table:
    country = ibis.coalesce(rows.country, ibis.literal(ctx.settings["default_phone_country"]))
    email = normalize_email(rows.email)
    phone = ibis.coalesce(
        normalize_phone(rows.phone, country), normalize_phone(rows.address_phone, country)
    )
    shopify = namespaced("shopify", rows.shopify_id)
    return rows.mutate(
        shopify_identity=shopify,
        email_norm=email,
        phone_norm=phone,
        record_key=ibis.coalesce(shopify, "email:" + email, "phone:" + phone),
    )


def _links(records: ir.Table) -> ir.Table:
    parts = [
        records.select(
            "record_key", identity=records.shopify_identity, kind=ibis.literal("shopify")
        ),
        records.select(
            "record_key", identity="email:" + records.email_norm, kind=ibis.literal("email")
        ),
        records.select(
            "record_key", identity="phone:" + records.phone_norm, kind=ibis.literal("phone")
        ),
    ]
    return parts[0].union(parts[1]).union(parts[2])


def _profiles(records: ir.Table) -> ir.Table:
    return records.select(
        "record_key",
        rank=records[ROW],
        seen_at=ibis.null("timestamp"),
        email=records.email_norm,
        phone=records.phone_norm,
        first_name=records.first_name,
        last_name=records.last_name,
        company=records.company,
        address1=records.address1,
        city=records.city,
        region=records.region,
        country=records.country,
        zip=records.zip,
        email_consent=consent_from_flag(records.accepts_email),
        sms_consent=consent_from_flag(records.accepts_sms),
        tags=split_list(records.tags),
        note=records.note,
        gender=records.gender,
        birth_year=records.birth_year,
        attributes=records.attributes,
        reported_total_spent=records.total_spent,
        reported_total_orders=records.total_orders,
        tags_as_of=ibis.literal(utcnow()),
    )
