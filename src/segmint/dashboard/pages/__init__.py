"""One module per dashboard page: its view (the data), its HTML route and its JSON twin.

Every module of this package with a ``router`` is a page; :data:`PAGES` lists them in name
order (the navigation's order is :data:`segmint.dashboard.web.NAV`).
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType


def _pages() -> tuple[ModuleType, ...]:
    found = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(module, "router"):
            found.append(module)
    return tuple(found)


PAGES = _pages()
