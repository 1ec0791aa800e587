"""Guards against over-segmentation: audiences too small to use, exclusions that eat them.

A segment is *small* when it has fewer customers than ``min_audience`` (default 100: the
practical minimum of a Meta custom audience or lookalike source). Exclusions *shrink* a
segment when the earlier segments of its ``segments.yaml`` group, or its own
``AND NOT member_of(...)`` terms, remove more than ``max_exclusion_shrink`` (default half) of
the customers its rule describes.
Both thresholds are set under ``guards:`` in ``segments.yaml``.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_GUARDS = {"min_audience": 100, "max_exclusion_shrink": 0.5}


@dataclass(frozen=True)
class GuardWarning:
    segment: str
    kind: str  # "small_audience" or "exclusion_shrink"
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"segment": self.segment, "kind": self.kind, "message": self.message}


def audience_warnings(
    slugs: list[str],
    sizes: dict[str, int],
    before: dict[str, int | None],
    min_audience: int,
    max_exclusion_shrink: float,
) -> list[GuardWarning]:
    """The warnings for one refresh's segment sizes, in the order of ``slugs``."""
    found = []
    for slug in slugs:
        size = sizes.get(slug, 0)
        if size < min_audience:
            found.append(
                GuardWarning(
                    slug,
                    "small_audience",
                    f"segment {slug!r} has {size} customers, fewer than the minimum audience "
                    f"of {min_audience}",
                )
            )
        described = before.get(slug)
        if described:
            shrink = 1 - size / described
            if shrink > max_exclusion_shrink:
                found.append(
                    GuardWarning(
                        slug,
                        "exclusion_shrink",
                        f"exclusions remove {shrink:.0%} of segment {slug!r} ({described} "
                        f"customers meet its rule, {size} remain), more than "
                        f"{max_exclusion_shrink:.0%}",
                    )
                )
    return found
