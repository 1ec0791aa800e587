"""The rule language's catalog, built from the feature catalog, with Shopify's names."""

from __future__ import annotations

from segmint.features.catalog import CATALOG
from segmint.rules import Alias, Attribute, Catalog, FunctionSpec

#: Shopify segment-editor attribute names -> segmint features (segments-reference, section 1).
SHOPIFY_ALIASES: dict[str, str | Alias] = {
    "customer_countries": Alias("country", scalar_list=True),
    "customer_regions": Alias("region", scalar_list=True),
    "customer_cities": Alias("city", scalar_list=True),
    "customer_tags": "tags",
    "email_subscription_status": "email_consent",
    "sms_subscription_status": "sms_consent",
    "customer_email_domain": "email_domain",
    "rfm_group": Alias("rfm_group", values={"LOYAL": "loyal", "NEEDS_ATTENTION": "need_attention"}),
}


def rule_catalog(functions: tuple[FunctionSpec, ...] = ()) -> Catalog:
    """Every feature as a rule attribute; Shopify's names for those segmint has."""
    attributes = [Attribute(f.name, f.type, f.values, f.definition) for f in CATALOG.values()]
    known = {f.name for f in CATALOG.values()}
    aliases = {
        name: alias
        for name, alias in SHOPIFY_ALIASES.items()
        if (alias if isinstance(alias, str) else alias.target) in known
    }
    return Catalog(attributes, aliases=aliases, functions=functions)
