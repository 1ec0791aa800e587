"""A small catalog for the rule-language tests (the real one comes from segmint.features)."""

from __future__ import annotations

import pytest

from segmint.rules import Alias, Attribute, Catalog, FunctionSpec, Param

CONSENT = ("subscribed", "not_subscribed", "pending", "unsubscribed", "invalid", "redacted")
RFM = ("champions", "loyal_customers", "promising", "cant_lose_them", "lost")


def make_catalog() -> Catalog:
    return Catalog(
        [
            Attribute("number_of_orders", "integer"),
            Attribute("amount_spent", "money"),
            Attribute("aov", "money"),
            Attribute("email_open_rate_90d", "number"),
            Attribute("first_order_date", "date"),
            Attribute("last_order_date", "date"),
            Attribute("country", "string"),
            Attribute("tags", "list"),
            Attribute("email_consent", "enum", CONSENT),
            Attribute("rfm_group", "enum", RFM),
            Attribute("accepts_marketing", "boolean"),
            Attribute("birth_year", "integer"),
        ],
        aliases={
            "customer_countries": Alias("country", scalar_list=True),
            "customer_tags": "tags",
            "email_subscription_status": Alias("email_consent"),
            "rfm_group": Alias("rfm_group", values={"LOYAL": "loyal_customers"}),
        },
        functions=[
            FunctionSpec(
                "products_purchased",
                (
                    Param("category", "string", many=True),
                    Param("tag", "string", many=True),
                    Param("product", "string", aliases=("id",), many=True),
                    Param("since", "date", aliases=("date",)),
                    Param("until", "date"),
                    Param("quantity", "integer"),
                ),
                op_params={
                    ("date", ">"): "since",
                    ("date", ">="): "since",
                    ("date", "<"): "until",
                    ("date", "<="): "until",
                },
            ),
            FunctionSpec(
                "member_of", (Param("segment", "string", positional=True, required=True),)
            ),
        ],
    )


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return make_catalog()
