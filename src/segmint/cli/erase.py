"""``segmint erase``: the right to erasure."""

from __future__ import annotations
