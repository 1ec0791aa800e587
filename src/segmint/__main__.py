"""``python -m segmint``: the same as the ``segmint`` command."""

from __future__ import annotations

from segmint.cli.main import main

main()
