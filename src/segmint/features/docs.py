"""Write ``docs/features.md`` from the catalog: ``python -m segmint.features.docs [PATH]``."""

from __future__ import annotations

import sys
from pathlib import Path

import segmint.features  # noqa: F401  (imports every feature module, filling the catalog)
from segmint.features.catalog import features_markdown

DEFAULT_PATH = Path("docs/features.md")


def main(argv: list[str]) -> None:
    path = Path(argv[0]) if argv else DEFAULT_PATH
    path.write_text(features_markdown(), encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
