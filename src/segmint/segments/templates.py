"""Segment templates: geography and declared attributes, filled in by the user.

A template has fields (``country``); ``segments.yaml`` fills them in::

    segments:
      - template: geo_country
        values: {country: CA}

which makes segment ``geo_country_ca`` with rule ``country = 'CA'``. Values become quoted
string literals of the rule language, so any text is plain data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from segmint.segments.library import SegmentDef


def quote(value: str) -> str:
    """``value`` as a rule-language string literal."""
    return "'" + value.replace("'", "''") + "'"


def slug_part(value: str) -> str:
    """``value`` reduced to ``a-z0-9_`` for a slug (``New York`` -> ``new_york``)."""
    return re.sub(r"[^a-z0-9]+", "_", value.lower()).strip("_") or "x"


@dataclass(frozen=True)
class Template:
    """A segment with ``{field}`` holes in its slug, name, rule, description and action."""

    slug: str
    name: str
    rule: str
    description: str
    action: str
    fields: tuple[str, ...]

    def fill(self, values: dict[str, str]) -> SegmentDef:
        """The segment for these values (rule values quoted, slug values simplified)."""
        quoted = {k: quote(v) for k, v in values.items()}
        slugged = {k: slug_part(v) for k, v in values.items()}
        return SegmentDef(
            slug=self.slug.format(**slugged),
            name=self.name.format(**values),
            rule=self.rule.format(**quoted),
            description=self.description.format(**values),
            action=self.action.format(**values),
            origin=f"template:{self.slug.split('_{')[0]}",
        )


TEMPLATES: dict[str, Template] = {
    t.slug.split("_{")[0]: t
    for t in (
        Template(
            "geo_country_{country}",
            "Customers in {country}",
            "country = {country}",
            "Customers whose country is {country}.",
            "Local offers, shipping and holidays; send in {country}'s daytime.",
            ("country",),
        ),
        Template(
            "geo_region_{country}_{region}",
            "Customers in {region}, {country}",
            "country = {country} AND region = {region}",
            "Customers in region {region} of {country}.",
            "Regional events, store openings, weather-driven offers.",
            ("country", "region"),
        ),
        Template(
            "geo_city_{city}",
            "Customers in {city}",
            "city = {city}",
            "Customers whose city is {city}.",
            "Local events, pop-ups, same-day delivery.",
            ("city",),
        ),
        Template(
            "tag_{tag}",
            "Tagged {tag}",
            "tags CONTAINS {tag}",
            "Customers with the tag {tag}.",
            "Whatever the tag stands for: wholesale terms, VIP perks, staff offers.",
            ("tag",),
        ),
    )
}
