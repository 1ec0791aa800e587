"""One exception root for everything segmint reports to a user.

The CLI prints ``Error: <message>`` on the first line, then ``details`` (a caret, the closest
format and its missing columns, a hint) on the following lines, and exits with status 1.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(name: str, known: Iterable[str]) -> str | None:
    """``did you mean 'x'?`` for the name in ``known`` closest to ``name``, or None."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else None


class SegmintError(Exception):
    """An error a user can act on: the message names the file, row and column when known."""

    def __init__(self, message: str, *, details: str | None = None, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.details = details
        self.hint = hint

    def render(self) -> str:
        """Return the full text shown to a user: the message, then details and hint."""
        lines = [self.message]
        if self.details:
            lines.append(self.details)
        if self.hint:
            lines.append(f"Hint: {self.hint}")
        return "\n".join(lines)


class WorkspaceError(SegmintError):
    """The workspace file cannot be opened, upgraded or written."""


class ConfigError(SegmintError):
    """A setting, mapping file or option has an invalid value; ``option`` names the option
    (``to`` for ``--to``) when one is to blame, for the API's error ``field``."""

    def __init__(
        self,
        message: str,
        *,
        option: str | None = None,
        details: str | None = None,
        hint: str | None = None,
    ):
        super().__init__(message, details=details, hint=hint)
        self.option = option


class InputFileError(SegmintError):
    """An input file cannot be read at all (missing, empty, no header, unknown encoding)."""


class UnknownFormatError(InputFileError):
    """A file's header matches none of the formats segmint reads."""


class ImportAborted(SegmintError):
    """An import failed midway; the workspace was rolled back to its previous state."""
