"""The file formats segmint reads, and detection of a file's format from its header."""

from __future__ import annotations

from pathlib import Path

from segmint.errors import UnknownFormatError
from segmint.importers.base import Importer, ImportOptions
from segmint.importers.events import EventsImporter
from segmint.importers.mapped import MappedImporter
from segmint.importers.shopify_customers import ShopifyCustomersImporter
from segmint.importers.shopify_orders import ShopifyOrdersImporter
from segmint.importers.shopify_products import ShopifyProductsImporter
from segmint.importers.uci import OnlineRetailIIImporter, OnlineRetailImporter

#: Built-in formats, most specific first.
FORMATS: list[Importer] = [
    ShopifyOrdersImporter(),
    ShopifyCustomersImporter(),
    ShopifyProductsImporter(),
    OnlineRetailImporter(),
    OnlineRetailIIImporter(),
    EventsImporter(),  # last: its signature (event, time, one identifier) is the loosest
]


def format_names() -> list[str]:
    return [f.name for f in FORMATS] + [MappedImporter.name]


def detect_format(path: Path, header: list[str], options: ImportOptions) -> Importer:
    """The importer for a file: ``--format`` or a mapping if given, else from its header."""
    if options.mapping is not None:
        return MappedImporter(options.mapping)
    if options.format:
        for importer in FORMATS:
            if importer.name == options.format:
                missing = importer.missing(header)
                if missing:
                    raise UnknownFormatError(
                        f"{path.name} is not a {importer.name} file: missing columns "
                        + ", ".join(missing)
                    )
                return importer
        raise UnknownFormatError(
            f"unknown format '{options.format}'", details="Formats: " + ", ".join(format_names())
        )
    for importer in FORMATS:
        if importer.matches(header):
            return importer
    closest = min(FORMATS, key=lambda f: len(f.missing(header)) / len(f.signature))
    raise UnknownFormatError(
        f"{path.name} matches no known format",
        details=f"Closest format: {closest.name}, missing columns: "
        + ", ".join(closest.missing(header)),
        hint="pass --format, or describe the columns with --mapping FILE.yaml",
    )
