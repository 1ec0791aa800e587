"""segmint: customer segmentation for e-commerce stores.

The Python API is one object, :class:`segmint.Workspace`; the CLI and the web server are thin
front ends over it.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["Workspace", "__version__"]


def __getattr__(name: str) -> object:
    if name == "Workspace":
        from segmint.workspace import Workspace

        return Workspace
    raise AttributeError(name)
