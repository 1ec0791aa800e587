"""Deterministic assignment of customers to a campaign's variants and holdout.

A customer's bucket is the first 15 hex digits of SHA-256 of ``"<salt>:<customer_id>"``, modulo
:data:`ARM_BUCKETS`; the arms own consecutive ranges of buckets in proportion to their shares.
The same salt and id give the same arm on every run, machine and engine: :func:`bucket` and
:func:`arm_of` compute it in Python, :func:`bucket_expr` and :meth:`Arms.arm_expr` as Ibis
expressions, and tests check both agree.
"""

from __future__ import annotations

import bisect
import hashlib
import secrets
from collections import Counter
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from segmint.errors import ConfigError

#: Number of hash buckets the arms share; a share is honoured to 1/ARM_BUCKETS.
ARM_BUCKETS = 10_000
#: The reserved name of the arm that receives nothing.
HOLDOUT = "holdout"
#: Hex digits of the digest read as an integer: 60 bits, so it fits a signed 64-bit integer.
HASH_DIGITS = 15
MAX_HOLDOUT = 0.9


def new_salt() -> str:
    """A fresh random salt for a new campaign (store it: it fixes every assignment)."""
    return secrets.token_hex(8)


def bucket(salt: str, customer_id: str) -> int:
    """The bucket (0 to ARM_BUCKETS - 1) of ``customer_id`` in the campaign salted ``salt``."""
    digest = hashlib.sha256(f"{salt}:{customer_id}".encode()).hexdigest()
    return int(digest[:HASH_DIGITS], 16) % ARM_BUCKETS


def bucket_expr(customer_id: ir.StringValue, salt: str) -> ir.IntegerValue:
    """:func:`bucket` as an Ibis expression.

    The hex digits are read with Horner's rule over each character's code point (``0``-``9``
    are 48-57, ``a``-``f`` are 97-102), which every engine with ``ascii`` computes the same
    way; no engine-specific hex parsing is needed.
    """
    digest = (ibis.literal(f"{salt}:") + customer_id).hexdigest("sha256")
    value = ibis.literal(0, type="int64")
    for position in range(HASH_DIGITS):
        code = digest.substr(position, 1).ascii_str().cast("int64")
        digit = ibis.ifelse(code <= ord("9"), code - ord("0"), code - ord("a") + 10)
        value = value * 16 + digit
    return value % ARM_BUCKETS


@dataclass(frozen=True)
class Arms:
    """The arms of a campaign and their shares of the eligible customers, in bucket order."""

    names: tuple[str, ...]
    shares: tuple[float, ...]

    @classmethod
    def of(cls, variants: list[str], holdout: float) -> Arms:
        """Equal shares of ``1 - holdout`` for each variant, then ``holdout`` (when above 0).

        ``Arms.of(["A", "B"], 0.10)`` gives A 0.45, B 0.45, holdout 0.10.
        """
        names = _checked_variants(variants)
        _check_holdout(holdout)
        share = (1.0 - holdout) / len(names)
        arms = cls(names, (share,) * len(names))
        if holdout > 0:
            arms = cls((*names, HOLDOUT), (*arms.shares, float(holdout)))
        arms._check_every_arm_has_buckets()
        return arms

    @property
    def has_holdout(self) -> bool:
        return HOLDOUT in self.names

    def boundaries(self) -> list[int]:
        """Cumulative bucket cut points: arm i owns buckets ``[cut[i-1], cut[i])``; the last
        cut is ARM_BUCKETS."""
        cuts, total = [], 0.0
        for share in self.shares:
            total += share
            cuts.append(round(total * ARM_BUCKETS))
        cuts[-1] = ARM_BUCKETS
        return cuts

    def bucket_shares(self) -> dict[str, float]:
        """Each arm's exact share of the buckets (the expected shares for a sample-ratio check)."""
        cuts = [0, *self.boundaries()]
        return {name: (cuts[i + 1] - cuts[i]) / ARM_BUCKETS for i, name in enumerate(self.names)}

    def arm_of(self, bucket: int) -> str:
        """The arm that owns ``bucket``."""
        if not 0 <= bucket < ARM_BUCKETS:
            raise ValueError(f"bucket {bucket} is outside 0..{ARM_BUCKETS - 1}")
        return self.names[bisect.bisect_right(self.boundaries(), bucket)]

    def arm_expr(self, bucket: ir.IntegerValue) -> ir.StringValue:
        """:meth:`arm_of` as an Ibis expression over a bucket expression."""
        cuts = self.boundaries()
        branches = [
            (bucket < cut, name) for cut, name in zip(cuts[:-1], self.names[:-1], strict=True)
        ]
        if not branches:
            return ibis.literal(self.names[0], type="string")
        return ibis.cases(*branches, else_=self.names[-1])

    def assign(self, customers: ir.Table, salt: str, id_column: str = "customer_id") -> ir.Table:
        """``customers`` with a ``bucket`` and an ``arm`` column added."""
        with_bucket = customers.mutate(bucket=bucket_expr(customers[id_column], salt))
        return with_bucket.mutate(arm=self.arm_expr(with_bucket.bucket))

    def _check_every_arm_has_buckets(self) -> None:
        cuts = [0, *self.boundaries()]
        empty = [name for i, name in enumerate(self.names) if cuts[i + 1] <= cuts[i]]
        if empty:
            raise ConfigError(
                f"arm '{empty[0]}' gets no customers: {len(self.names)} arms are too many "
                f"for {ARM_BUCKETS:,} buckets"
            )


def _checked_variants(variants: list[str]) -> tuple[str, ...]:
    names = tuple(str(name).strip() for name in variants)
    if not names:
        raise ConfigError("a campaign needs at least one variant", option="variants")
    if any(not name for name in names):
        raise ConfigError("variant names cannot be empty", option="variants")
    reserved = [name for name in names if name.lower() == HOLDOUT]
    if reserved:
        raise ConfigError(
            f"'{reserved[0]}' is reserved for the holdout; name the variant differently",
            option="variants",
            hint="use --holdout to set aside a holdout",
        )
    duplicates = sorted(name for name, count in Counter(names).items() if count > 1)
    if duplicates:
        raise ConfigError(f"variant '{duplicates[0]}' is named twice", option="variants")
    return names


def _check_holdout(holdout: float) -> None:
    if not 0 <= holdout <= MAX_HOLDOUT:
        hint = "give a fraction: 0.1 for 10%" if holdout > 1 else None
        raise ConfigError(
            f"holdout must be between 0 and {MAX_HOLDOUT:g} of the eligible customers, "
            f"not {holdout:g}",
            option="holdout",
            hint=hint,
        )
