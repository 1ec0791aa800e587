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


# -- products export ------------------------------------------------------------------------
#: Current layout (Product Category + Type), as the demo generator and real 2024 exports write it.
PRODUCTS_HEADER = (
    "Handle,Title,Body (HTML),Vendor,Product Category,Type,Tags,Published,Option1 Name,"
    "Option1 Value,Option2 Name,Option2 Value,Option3 Name,Option3 Value,Variant SKU,"
    "Variant Grams,Variant Inventory Tracker,Variant Inventory Qty,Variant Inventory Policy,"
    "Variant Fulfillment Service,Variant Price,Variant Compare At Price,"
    "Variant Requires Shipping,Variant Taxable,Variant Barcode,Image Src,Image Position,"
    "Image Alt Text,Gift Card,SEO Title,SEO Description,"
    "Google Shopping / Google Product Category,Google Shopping / Gender,"
    "Google Shopping / Age Group,Google Shopping / MPN,Google Shopping / Condition,"
    "Google Shopping / Custom Product,Variant Image,Variant Weight Unit,Variant Tax Code,"
    "Cost per item,Status"
).split(",")
#: The 2022 layout: Standardized Product Type and Custom Product Type instead of
#: Product Category and Type.
PRODUCTS_HEADER_2022 = (
    "Handle,Title,Body (HTML),Vendor,Standardized Product Type,Custom Product Type,Tags,"
    "Published,Option1 Name,Option1 Value,Option2 Name,Option2 Value,Option3 Name,"
    "Option3 Value,Variant SKU,Variant Grams,Variant Inventory Tracker,Variant Inventory Qty,"
    "Variant Inventory Policy,Variant Fulfillment Service,Variant Price,"
    "Variant Compare At Price,Variant Requires Shipping,Variant Taxable,Variant Barcode,"
    "Image Src,Image Position,Image Alt Text,Gift Card,SEO Title,SEO Description,"
    "Google Shopping / Google Product Category,Google Shopping / Gender,"
    "Google Shopping / Age Group,Google Shopping / MPN,Google Shopping / AdWords Grouping,"
    "Google Shopping / AdWords Labels,Google Shopping / Condition,"
    "Google Shopping / Custom Product,Google Shopping / Custom Label 0,"
    "Google Shopping / Custom Label 1,Google Shopping / Custom Label 2,"
    "Google Shopping / Custom Label 3,Google Shopping / Custom Label 4,Variant Image,"
    "Variant Weight Unit,Variant Tax Code,Cost per item,Status"
).split(",")
#: Spellings of the product-level columns in the 2022 layout.
PRODUCTS_2022_NAMES = {
    "Product Category": "Standardized Product Type",
    "Type": "Custom Product Type",
}
#: Cells a variant row (second and later rows of a product) carries besides ``Handle``.
VARIANT_FIELDS = {
    "Option1 Value",
    "Option2 Value",
    "Option3 Value",
    "Variant SKU",
    "Variant Grams",
    "Variant Inventory Tracker",
    "Variant Inventory Qty",
    "Variant Inventory Policy",
    "Variant Fulfillment Service",
    "Variant Price",
    "Variant Compare At Price",
    "Variant Requires Shipping",
    "Variant Taxable",
    "Variant Barcode",
    "Variant Image",
    "Variant Weight Unit",
    "Variant Tax Code",
    "Cost per item",
}


def product(handle: str, variants: list[dict[str, str]], **fields: str) -> dict[str, Any]:
    """A product: product-level ``fields`` (Title, Vendor, Product Category, Type, Tags,
    Option1 Name...) and its ``variants`` (Option1 Value, Variant SKU, Variant Price...)."""
    base = {
        "Handle": handle,
        "Published": "true",
        "Status": "active",
        "Gift Card": "false",
    }
    base.update(fields)
    base["variants"] = [
        {
            "Variant Grams": "200",
            "Variant Inventory Tracker": "shopify",
            "Variant Inventory Qty": "10",
            "Variant Inventory Policy": "deny",
            "Variant Fulfillment Service": "manual",
            "Variant Requires Shipping": "true",
            "Variant Taxable": "true",
            "Variant Weight Unit": "kg",
            **variant,
        }
        for variant in variants
    ]
    return base


def product_rows(item: dict[str, Any], header: list[str]) -> list[list[str]]:
    """The rows of one product: product-level cells only on the first row; an ``images``
    list adds image-only rows (Handle, Image Src, Image Position) after the variants."""
    renamed = PRODUCTS_2022_NAMES if "Standardized Product Type" in header else {}
    rows = []
    for i, variant in enumerate(item["variants"]):
        values = (
            {k: v for k, v in item.items() if k not in ("variants", "images")}
            if i == 0
            else {"Handle": item["Handle"]}
        )
        values.update(variant)
        values = {renamed.get(k, k): v for k, v in values.items()}
        rows.append([str(values.get(column, "")) for column in header])
    for position, src in enumerate(item.get("images", []), start=2):
        values = {"Handle": item["Handle"], "Image Src": src, "Image Position": str(position)}
        rows.append([values.get(column, "") for column in header])
    return rows


def write_products(
    path: Path,
    products: list[dict[str, Any]],
    header: list[str] = PRODUCTS_HEADER,
    extra_rows: list[list[str]] | None = None,
) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        for item in products:
            writer.writerows(product_rows(item, header))
        for row in extra_rows or []:
            writer.writerow(row)
    return path


def boots_and_socks() -> list[dict[str, Any]]:
    """A two-product catalog: Trail Boot (BOOT-1, Boots, tags Sale and winter) and Wool Sock
    (SOCK-1, Socks, tag winter)."""
    return [
        product(
            "trail-boot",
            [{"Variant SKU": "BOOT-1", "Variant Price": "120.00"}],
            Title="Trail Boot",
            **{"Product Category": "Apparel & Accessories > Shoes > Boots", "Tags": "Sale, winter"},
        ),
        product(
            "wool-sock",
            [{"Variant SKU": "SOCK-1", "Variant Price": "12.00"}],
            Title="Wool Sock",
            **{"Product Category": "Apparel & Accessories > Clothing > Socks", "Tags": "winter"},
        ),
    ]
