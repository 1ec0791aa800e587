"""Profile: who the customer is and where, from the ``customers`` table.

Profile values are the customer's current ones (a customers export is authoritative, see
docs/data-model.md); only the address falls back to the billing address of the latest
counted order up to the as-of day. Declared attributes other than gender and birth year stay
as a JSON object in ``customers.attributes``; they are not features.
"""

from __future__ import annotations

from datetime import date

import ibis
import ibis.expr.types as ir

from segmint.definitions import counted_orders
from segmint.features.catalog import feature
from segmint.features.tables import Tables

GROUP = "Profile"

COUNTRY = feature(
    "country",
    "string",
    GROUP,
    "Country code (or name, as the source writes it) of the customer, else the billing "
    "country of the latest counted order.",
)
REGION = feature(
    "region",
    "string",
    GROUP,
    "Province or state code of the customer, else the billing province of the latest counted "
    "order.",
)
CITY = feature(
    "city",
    "string",
    GROUP,
    "City of the customer, else the billing city of the latest counted order.",
)
TAGS = feature(
    "tags", "list", GROUP, "Customer tags from the customers export; empty when it has none."
)
GENDER = feature(
    "gender",
    "string",
    GROUP,
    "Declared gender (`female`, `male`, or as written), from a `gender:` line of the customer "
    "note.",
)
BIRTH_YEAR = feature(
    "birth_year",
    "integer",
    GROUP,
    "Declared birth year, from a `birth_year:` line of the customer note (1900-2100).",
)
EMAIL_DOMAIN = feature(
    "email_domain",
    "string",
    GROUP,
    "The part of the customer's normalized email after the `@` (`example.com`).",
)
CUSTOMER_ADDED_DATE = feature(
    "customer_added_date",
    "date",
    GROUP,
    "Day part of `first_seen_at` (UTC), when any import first saw the customer (first order "
    "or event); empty for a customer only a customers export knows.",
)
#: Address feature -> (its ``customers`` column, the ``orders`` billing column it falls back to).
ADDRESS = {
    COUNTRY: ("country", "billing_country"),
    REGION: ("region", "billing_region"),
    CITY: ("city", "billing_city"),
}


def profile_features(tables: Tables, as_of: date) -> ir.Table:
    """One row per customer of ``tables.customers``: ``customer_id`` and the features above."""
    orders = counted_orders(tables.orders, as_of)
    rank = ibis.row_number().over(
        group_by=orders.customer_id,
        order_by=[ibis.desc(orders.placed_at), ibis.desc(orders.order_id)],
    )
    ranked = orders.mutate(_rank=rank)
    latest = ranked.filter(ranked._rank == 0).select(
        "customer_id", **{f"_{billing}": ranked[billing] for _, billing in ADDRESS.values()}
    )
    customers = tables.customers
    joined = customers.left_join(latest, "customer_id").drop("customer_id_right")
    domain = joined.email.re_extract(r"@([^@]+)$", 1)
    return joined.select(
        customer_id=joined.customer_id,
        **{
            name: ibis.coalesce(
                _blank_to_null(joined[column]), _blank_to_null(joined[f"_{billing}"])
            )
            for name, (column, billing) in ADDRESS.items()
        },
        **{
            TAGS: joined.tags,
            GENDER: joined.gender,
            BIRTH_YEAR: joined.birth_year,
            EMAIL_DOMAIN: _blank_to_null(domain),
            CUSTOMER_ADDED_DATE: joined.first_seen_at.date(),
        },
    )


def _blank_to_null(value: ir.StringValue) -> ir.StringValue:
    return ibis.ifelse(value.strip() == "", ibis.null("string"), value)
