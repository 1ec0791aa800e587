"""AST -> canonical rule text: keywords upper-case, ``today``/``true``/``false`` lower-case,
single spaces, parentheses only where precedence needs them. ``parse(to_text(ast)) == ast``."""

from __future__ import annotations

from decimal import Decimal

from segmint.rules import ast as A


def literal_text(value: A.Literal_) -> str:
    if isinstance(value, A.Number):
        return number_text(value.value)
    if isinstance(value, A.String):
        return "'" + value.value.replace("'", "''") + "'"
    if isinstance(value, A.Boolean):
        return "true" if value.value else "false"
    if isinstance(value, A.DateLiteral):
        return value.value.isoformat()
    if isinstance(value, A.RelativeDate):
        return f"-{value.amount}{value.unit}"
    if isinstance(value, A.Today):
        return "today"
    raise TypeError(f"not a literal: {value!r}")


def number_text(value: Decimal) -> str:
    text = format(value, "f")
    return "0" if text in ("-0", "-0.0") else text


def _arg_value_text(value: A.Literal_ | tuple[A.Literal_, ...]) -> str:
    if isinstance(value, tuple):
        return "(" + ", ".join(literal_text(v) for v in value) + ")"
    return literal_text(value)


def _arg_text(arg: A.Arg) -> str:
    value = _arg_value_text(arg.value)
    if arg.name is None:
        return value
    if arg.op == ":":
        return f"{arg.name}: {value}"
    return f"{arg.name} {arg.op} {value}"


_PREC = {A.Or: 1, A.And: 2, A.Not: 3}


def _prec(node: A.Expr) -> int:
    return _PREC.get(type(node), 4)


def to_text(node: A.Expr) -> str:
    """The canonical text of a rule."""
    if isinstance(node, A.Or | A.And):
        word = "OR" if isinstance(node, A.Or) else "AND"
        p = _prec(node)
        left = to_text(node.left)
        if _prec(node.left) < p:
            left = f"({left})"
        right = to_text(node.right)
        # Both operators are parsed left-associatively: a right child of equal precedence needs
        # parentheses to keep its grouping.
        if _prec(node.right) <= p:
            right = f"({right})"
        return f"{left} {word} {right}"
    if isinstance(node, A.Not):
        inner = to_text(node.operand)
        if _prec(node.operand) < _prec(node):
            inner = f"({inner})"
        return f"NOT {inner}"
    if isinstance(node, A.Comparison):
        return f"{node.attr.name} {node.op} {literal_text(node.value)}"
    neg = "NOT " if getattr(node, "negated", False) else ""
    if isinstance(node, A.Between):
        return (
            f"{node.attr.name} {neg}BETWEEN {literal_text(node.low)} AND {literal_text(node.high)}"
        )
    if isinstance(node, A.InList):
        values = ", ".join(literal_text(v) for v in node.values)
        return f"{node.attr.name} {neg}IN ({values})"
    if isinstance(node, A.IsNull):
        return f"{node.attr.name} IS {neg}NULL"
    if isinstance(node, A.Contains):
        return f"{node.attr.name} {neg}CONTAINS {literal_text(node.value)}"
    if isinstance(node, A.FunctionCall):
        args = ", ".join(_arg_text(a) for a in node.args)
        if node.matches:
            return f"{node.name} MATCHES ({args})"
        return f"{node.name}({args})"
    raise TypeError(f"not a rule node: {node!r}")
