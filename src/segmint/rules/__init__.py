"""segmint's segment rule language: Shopify's segment syntax plus segmint's own attributes.

Pipeline: :func:`parse` (text -> AST), :func:`check` (AST + :class:`Catalog` -> resolved AST,
type errors with a caret), :func:`compile_rule` (-> Ibis boolean over the features table),
:func:`to_text` (AST -> canonical text).
"""

from __future__ import annotations

from segmint.rules.ast import attributes, function_calls, walk
from segmint.rules.catalog import Alias, Attribute, Catalog, FunctionSpec, Param, enum_key
from segmint.rules.check import check, parse_rule
from segmint.rules.compile import RuleFunction, compile_rule, resolve_date, shift_months
from segmint.rules.errors import RuleCompileError, RuleError, RuleSyntaxError, RuleTypeError
from segmint.rules.parser import parse
from segmint.rules.printer import to_text

__all__ = [
    "Alias",
    "Attribute",
    "Catalog",
    "FunctionSpec",
    "Param",
    "RuleCompileError",
    "RuleError",
    "RuleFunction",
    "RuleSyntaxError",
    "RuleTypeError",
    "attributes",
    "check",
    "compile_rule",
    "enum_key",
    "function_calls",
    "parse",
    "parse_rule",
    "resolve_date",
    "shift_months",
    "to_text",
    "walk",
]
