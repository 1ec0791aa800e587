"""``segmint export``, ``segmint suppress`` and ``segmint plan``."""

from __future__ import annotations
