"""Writers for Shopify-shaped test files, independent of segmint's own code.

Orders are written the way Shopify exports them: one row per line item, order-level fields
only on an order's first row, continuation rows carrying Name, Email, Created at, the
Lineitem columns, Vendor, Lineitem discount and Phone.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

ORDERS_HEADER = (
    "Name,Email,Financial Status,Paid at,Fulfillment Status,Fulfilled at,Accepts Marketing,"
    "Currency,Subtotal,Shipping,Taxes,Total,Discount Code,Discount Amount,Shipping Method,"
    "Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem compare at price,"
    "Lineitem sku,Lineitem requires shipping,Lineitem taxable,Lineitem fulfillment status,"
    "Billing Name,Billing Street,Billing Address1,Billing Address2,Billing Company,Billing City,"
    "Billing Zip,Billing Province,Billing Country,Billing Phone,Shipping Name,Shipping Street,"
    "Shipping Address1,Shipping Address2,Shipping Company,Shipping City,Shipping Zip,"
    "Shipping Province,Shipping Country,Shipping Phone,Notes,Note Attributes,Cancelled at,"
    "Payment Method,Payment Reference,Refunded Amount,Vendor,Outstanding Balance,Employee,"
    "Location,Device ID,Id,Tags,Risk Level,Source,Lineitem discount,Tax 1 Name,Tax 1 Value,"
    "Tax 2 Name,Tax 2 Value,Tax 3 Name,Tax 3 Value,Tax 4 Name,Tax 4 Value,Tax 5 Name,"
    "Tax 5 Value,Phone,Receipt Number,Duties,Billing Province Name,Shipping Province Name,"
    "Payment ID,Payment Terms Name,Next Payment Due At,Payment References"
).split(",")
#: The 2021 layout stops at Shipping Province Name (75 columns).
ORDERS_HEADER_2021 = ORDERS_HEADER[:75]
#: Very old exports stop at Cancelled at, and say Fulfillment Date.
ORDERS_HEADER_OLD = [
    "Fulfillment Date" if c == "Fulfilled at" else c
    for c in ORDERS_HEADER[: ORDERS_HEADER.index("Cancelled at") + 1]
]
CONTINUATION = {
    "Name",
    "Email",
    "Created at",
    "Lineitem quantity",
    "Lineitem name",
    "Lineitem price",
    "Lineitem compare at price",
    "Lineitem sku",
    "Lineitem requires shipping",
    "Lineitem taxable",
    "Lineitem fulfillment status",
    "Vendor",
    "Lineitem discount",
    "Phone",
}

CUSTOMERS_HEADER = (
    "Customer ID,First Name,Last Name,Email,Accepts Email Marketing,Default Address Company,"
    "Default Address Address1,Default Address Address2,Default Address City,"
    "Default Address Province Code,Default Address Country Code,Default Address Zip,"
    "Default Address Phone,Phone,Accepts SMS Marketing,Total Spent,Total Orders,Note,"
    "Tax Exempt,Tags"
).split(",")
CUSTOMERS_HEADER_LEGACY = (
    "First Name,Last Name,Email,Company,Address1,Address2,City,Province,Province Code,Country,"
    "Country Code,Zip,Phone,Accepts Marketing,Total Spent,Total Orders,Tags,Note,Tax Exempt"
).split(",")


def order_rows(order: dict[str, Any], header: list[str]) -> list[list[str]]:
    """The rows of one order: ``order`` holds order-level fields and ``lines``."""
    rows = []
    for i, line in enumerate(order["lines"]):
        values = (
            {**order, **line}
            if i == 0
            else {**{k: v for k, v in order.items() if k in CONTINUATION}, **line}
        )
        if "Fulfillment Date" in header and "Fulfilled at" in values:
            values["Fulfillment Date"] = values.pop("Fulfilled at")
        rows.append([str(values.get(column, "")) for column in header])
    return rows


def write_orders(
    path: Path,
    orders: list[dict[str, Any]],
    header: list[str] = ORDERS_HEADER,
    extra_rows: list[list[str]] | None = None,
) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        for order in orders:
            writer.writerows(order_rows(order, header))
        for row in extra_rows or []:
            writer.writerow(row)
    return path


def write_customers(
    path: Path, customers: list[dict[str, Any]], header: list[str] = CUSTOMERS_HEADER
) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        for customer in customers:
            writer.writerow([str(customer.get(c, "")) for c in header])
    return path


def order(
    name: str, email: str, created: str, lines: list[tuple[int, str, str, str]], **fields: Any
) -> dict[str, Any]:
    """An order with totals computed from its lines: (quantity, title, price, sku)."""
    subtotal = sum(q * float(p) for q, _, p, _ in lines) - float(fields.get("Discount Amount", 0))
    shipping = float(fields.pop("Shipping", 0))
    taxes = float(fields.pop("Taxes", 0))
    base = {
        "Name": name,
        "Email": email,
        "Financial Status": "paid",
        "Accepts Marketing": "yes",
        "Currency": "USD",
        "Subtotal": f"{subtotal:.2f}",
        "Shipping": f"{shipping:.2f}",
        "Taxes": f"{taxes:.2f}",
        "Total": f"{subtotal + shipping + taxes:.2f}",
        "Discount Amount": "0.00",
        "Created at": created,
        "Billing Country": "US",
        "Source": "web",
        "Id": str(5_000_000_000_000 + int(name.strip("#"))),
        "Refunded Amount": "0.00",
    }
    base.update(fields)
    base["lines"] = [
        {
            "Lineitem quantity": str(q),
            "Lineitem name": title,
            "Lineitem price": price,
            "Lineitem sku": sku,
            "Vendor": "Acme",
            "Lineitem discount": "0.00",
        }
        for q, title, price, sku in lines
    ]
    return base
