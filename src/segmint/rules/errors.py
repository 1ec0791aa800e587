"""Errors of the rule language: each points at a position in the rule with a caret."""

from __future__ import annotations

from segmint.errors import SegmintError


def caret_lines(rule: str, position: int) -> str:
    """Return the line of ``rule`` holding ``position`` and a caret line under that position."""
    position = max(0, min(position, len(rule)))
    start = rule.rfind("\n", 0, position) + 1
    end = rule.find("\n", position)
    if end == -1:
        end = len(rule)
    line = rule[start:end]
    column = position - start
    # Tabs keep their width in the caret line so the caret stays under the character.
    pad = "".join("\t" if ch == "\t" else " " for ch in line[:column])
    return f"  {line}\n  {pad}^"


class RuleError(SegmintError):
    """A rule that cannot be used; ``position`` is a 0-based offset into ``rule`` (the rule text,
    None when only the AST is known: then no caret line is shown)."""

    def __init__(
        self, message: str, position: int, rule: str | None = None, hint: str | None = None
    ) -> None:
        self.position = position
        self.rule = rule
        details = caret_lines(rule, position) if rule is not None else None
        super().__init__(message, details=details, hint=hint)

    def with_rule(self, rule: str) -> RuleError:
        """Return the same error rendered against ``rule`` (the text the positions refer to)."""
        return type(self)(self.message, self.position, rule, self.hint)

    def __str__(self) -> str:
        return self.render()


class RuleSyntaxError(RuleError):
    """The rule text does not parse."""


class RuleTypeError(RuleError):
    """The rule parses but does not fit the catalog: unknown name, wrong operator or value."""


class RuleCompileError(RuleError):
    """The rule is valid but cannot be compiled over the given table or functions."""
