"""Type-check a rule against a :class:`~segmint.rules.catalog.Catalog`.

:func:`check` returns the *resolved* rule: the same AST with aliases replaced by catalog names
(``customer_tags`` -> ``tags``), enum values spelled as the catalog spells them
(``'SUBSCRIBED'`` -> ``'subscribed'``), ``CONTAINS`` on an alias with list semantics over a single
value turned into ``=`` (``customer_countries CONTAINS 'US'`` -> ``country = 'US'``), quoted dates
turned into dates, and function arguments named by their canonical parameter. The compiler only
sees resolved rules.
"""

from __future__ import annotations

import dataclasses
import difflib
from datetime import date

from segmint.rules import ast as A
from segmint.rules.catalog import Alias, Attribute, Catalog, FunctionSpec, Param
from segmint.rules.errors import RuleError, RuleTypeError
from segmint.rules.parser import parse
from segmint.rules.printer import literal_text

NUMERIC = ("number", "integer", "money")
ORDERED = (*NUMERIC, "date")

_VALUE_WORDS = {
    A.Number: "a number",
    A.String: "a string",
    A.Boolean: "a boolean",
    A.DateLiteral: "a date",
    A.RelativeDate: "a relative date",
    A.Today: "a date (today)",
}


def parse_rule(text: str, catalog: Catalog) -> A.Expr:
    """Parse and check ``text``; errors carry a caret under the position in ``text``."""
    return check(parse(text), catalog, text)


def check(node: A.Expr, catalog: Catalog, text: str | None = None) -> A.Expr:
    """Check ``node`` against ``catalog`` and return the resolved rule.

    Raises :class:`RuleTypeError`; pass the rule ``text`` so the error shows a caret.
    """
    try:
        return _Checker(catalog).expr(node)
    except RuleError as exc:
        if text is not None and exc.rule is None:
            raise exc.with_rule(text) from None
        raise


def _err(message: str, pos: int, hint: str | None = None) -> RuleTypeError:
    return RuleTypeError(message, pos, None, hint)


def _describe(value: A.Literal_) -> str:
    return f"{_VALUE_WORDS[type(value)]} ({literal_text(value)})"


class _Checker:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def expr(self, node: A.Expr) -> A.Expr:
        if isinstance(node, A.And | A.Or):
            return dataclasses.replace(node, left=self.expr(node.left), right=self.expr(node.right))
        if isinstance(node, A.Not):
            return dataclasses.replace(node, operand=self.expr(node.operand))
        if isinstance(node, A.FunctionCall):
            return self.function(node)
        return self.predicate(node)

    # -------------------------------------------------------------- attributes
    def resolve(self, attr: A.Attr) -> tuple[Attribute, Alias | None, A.Attr]:
        found = self.catalog.resolve(attr.name)
        if found is None:
            if attr.name in self.catalog.functions:
                raise _err(
                    f"{attr.name!r} is a function, not an attribute",
                    attr.pos,
                    hint=f"call it: {attr.name}(...)",
                )
            suggestion = self.catalog.suggest(attr.name)
            hint = f"did you mean {suggestion!r}?" if suggestion else None
            raise _err(f"Unknown attribute {attr.name!r}", attr.pos, hint=hint)
        attribute, alias = found
        return attribute, alias, A.Attr(attribute.name, pos=attr.pos)

    def predicate(self, node: A.Expr) -> A.Expr:
        attribute, alias, attr = self.resolve(node.attr)  # type: ignore[union-attr]
        kind = attribute.type
        if isinstance(node, A.IsNull):
            return dataclasses.replace(node, attr=attr)
        if isinstance(node, A.Contains):
            if kind == "list":
                value = self.value(node.value, attribute, alias, "CONTAINS")
                return dataclasses.replace(node, attr=attr, value=value)
            if alias is not None and alias.scalar_list and kind in ("string", "enum"):
                value = self.value(node.value, attribute, alias, "CONTAINS")
                op = "!=" if node.negated else "="
                return A.Comparison(attr, op, value, pos=node.pos)
            raise _err(
                f"CONTAINS needs a list attribute; {node.attr.name!r} is {kind}",
                node.pos,
                hint=self._op_hint(attribute),
            )
        if kind == "list":
            word = {A.Comparison: "comparison", A.Between: "BETWEEN", A.InList: "IN"}[type(node)]
            raise _err(
                f"{word} does not apply to the list attribute {node.attr.name!r}",
                node.pos,
                hint=f"write {node.attr.name} CONTAINS 'value' or IS NULL",
            )
        if isinstance(node, A.Comparison):
            if node.op not in ("=", "!=") and kind not in ORDERED:
                raise _err(
                    f"Operator {node.op} does not apply to {kind} attribute {node.attr.name!r}",
                    node.pos,
                    hint=self._op_hint(attribute),
                )
            value = self.value(node.value, attribute, alias, node.op)
            return dataclasses.replace(node, attr=attr, value=value)
        if isinstance(node, A.Between):
            if kind not in ORDERED:
                raise _err(
                    f"BETWEEN does not apply to {kind} attribute {node.attr.name!r}",
                    node.pos,
                    hint=self._op_hint(attribute),
                )
            low = self.value(node.low, attribute, alias, "BETWEEN")
            high = self.value(node.high, attribute, alias, "BETWEEN")
            return dataclasses.replace(node, attr=attr, low=low, high=high)
        if isinstance(node, A.InList):
            if kind == "boolean":
                raise _err(
                    f"IN does not apply to boolean attribute {node.attr.name!r}",
                    node.pos,
                    hint=f"write {node.attr.name} = true",
                )
            values = tuple(self.value(v, attribute, alias, "IN") for v in node.values)
            return dataclasses.replace(node, attr=attr, values=values)
        raise TypeError(f"not a predicate: {node!r}")

    @staticmethod
    def _op_hint(attribute: Attribute) -> str:
        kind = attribute.type
        if kind in ORDERED:
            return f"{kind} attributes take = != < <= > >= BETWEEN IN IS NULL"
        if kind == "list":
            return "list attributes take CONTAINS, NOT CONTAINS, IS NULL"
        if kind == "boolean":
            return "boolean attributes take = true, = false, IS NULL"
        return f"{kind} attributes take = != IN NOT IN IS NULL"

    # -------------------------------------------------------------- values
    def value(
        self, value: A.Literal_, attribute: Attribute, alias: Alias | None, op: str
    ) -> A.Literal_:
        kind = attribute.type
        name = attribute.name
        if kind in NUMERIC:
            if isinstance(value, A.Number):
                return value
            expected = "a number"
        elif kind == "date":
            if isinstance(value, A.DateLiteral | A.RelativeDate | A.Today):
                return value
            if isinstance(value, A.String):
                try:
                    return A.DateLiteral(date.fromisoformat(value.value), pos=value.pos)
                except ValueError:
                    raise _err(
                        f"{name!r} is a date; {value.value!r} is not a date",
                        value.pos,
                        hint="write dates as 2024-01-31, -90d, -6m, -1y or today",
                    ) from None
            expected = "a date (2024-01-31, -90d, today)"
        elif kind in ("string", "list"):
            if isinstance(value, A.String):
                return value
            expected = "a 'string'"
        elif kind == "enum":
            if isinstance(value, A.String):
                written = alias.map_value(value.value) if alias is not None else value.value
                canonical = attribute.canonical_value(written)
                if canonical is None:
                    allowed = ", ".join(repr(v) for v in attribute.values)
                    raise _err(
                        f"{value.value!r} is not a value of {name!r}",
                        value.pos,
                        hint=f"allowed values: {allowed}",
                    )
                return A.String(canonical, pos=value.pos)
            expected = "one of " + ", ".join(repr(v) for v in attribute.values)
        elif kind == "boolean":
            if isinstance(value, A.Boolean):
                return value
            expected = "true or false"
        else:  # pragma: no cover - Attribute validates its type
            raise TypeError(kind)
        raise _err(
            f"{name!r} is {kind}; {op} needs {expected}, not {_describe(value)}",
            value.pos,
            hint=self._op_hint(attribute),
        )

    # -------------------------------------------------------------- functions
    def function(self, node: A.FunctionCall) -> A.FunctionCall:
        spec = self.catalog.functions.get(node.name)
        if spec is None:
            if self.catalog.resolve(node.name) is not None:
                raise _err(
                    f"{node.name!r} is an attribute, not a function",
                    node.pos,
                    hint=f"compare it: {node.name} = value",
                )
            known = list(self.catalog.functions)
            close = difflib.get_close_matches(node.name, known, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}?" if close else None
            if hint is None and known:
                hint = "functions: " + ", ".join(sorted(known))
            raise _err(f"Unknown function {node.name!r}", node.pos, hint=hint)
        resolved: dict[str, A.Arg] = {}
        positional = list(spec.positional_params())
        for arg in node.args:
            if arg.name is None:
                if not positional:
                    raise _err(
                        f"Too many unnamed arguments for {node.name}",
                        arg.pos,
                        hint=self._args_hint(spec),
                    )
                param = positional.pop(0)
            else:
                param = self.param(spec, arg)
            if param.name in resolved:
                raise _err(
                    f"Argument {param.name!r} of {node.name} is given twice",
                    arg.pos,
                    hint=self._args_hint(spec),
                )
            value = self.arg_value(spec, param, arg)
            resolved[param.name] = A.Arg(param.name, ":", value, pos=arg.pos)
        for param in spec.params:
            if param.required and param.name not in resolved:
                raise _err(
                    f"{node.name} needs the argument {param.name!r}",
                    node.pos,
                    hint=self._args_hint(spec),
                )
        args = tuple(resolved[p.name] for p in spec.params if p.name in resolved)
        return A.FunctionCall(spec.name, args, False, pos=node.pos)

    def param(self, spec: FunctionSpec, arg: A.Arg) -> Param:
        assert arg.name is not None
        mapped = spec.op_params.get((arg.name, arg.op))
        if mapped is not None:
            param = spec.param(mapped)
            if param is None:  # pragma: no cover - catalog bug
                raise _err(f"{spec.name}: unknown parameter {mapped!r}", arg.pos)
            return param
        param = spec.param(arg.name)
        if param is None:
            close = difflib.get_close_matches(arg.name, spec.written_names(), n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}?" if close else self._args_hint(spec)
            raise _err(f"Unknown argument {arg.name!r} for {spec.name}", arg.pos, hint=hint)
        if arg.op not in (":", "="):
            ops = sorted(op for (name, op) in spec.op_params if name == arg.name)
            hint = f"{arg.name} takes " + " ".join(["=", *ops]) if ops else None
            raise _err(
                f"Operator {arg.op} is not supported for argument {arg.name!r} of {spec.name}",
                arg.pos,
                hint=hint or f"write {arg.name} = value",
            )
        return param

    @staticmethod
    def _args_hint(spec: FunctionSpec) -> str:
        parts = [f"{p.name}: {p.type}" for p in spec.params]
        return f"{spec.name}(" + ", ".join(parts) + ")"

    def arg_value(
        self, spec: FunctionSpec, param: Param, arg: A.Arg
    ) -> A.Literal_ | tuple[A.Literal_, ...]:
        if isinstance(arg.value, tuple):
            if not param.many:
                raise _err(
                    f"Argument {param.name!r} of {spec.name} takes one value, not a list",
                    arg.pos,
                )
            return tuple(self.param_value(spec, param, v) for v in arg.value)
        return self.param_value(spec, param, arg.value)

    def param_value(self, spec: FunctionSpec, param: Param, value: A.Literal_) -> A.Literal_:
        fake = Attribute(param.name, param.type)
        try:
            return self.value(value, fake, None, f"{spec.name}({param.name}:)")
        except RuleTypeError as exc:
            raise _err(
                f"Argument {param.name!r} of {spec.name} is {param.type}; got {_describe(value)}",
                exc.position,
                hint=self._args_hint(spec),
            ) from None
