"""Property tests: printing a rule and parsing it back gives the same AST."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from segmint.rules import ast as A
from segmint.rules import parse, to_text
from segmint.rules.lexer import KEYWORDS

names = st.from_regex(r"[a-z_][a-z0-9_]{0,10}", fullmatch=True).filter(
    lambda s: s.upper() not in KEYWORDS
)
numbers = st.one_of(
    st.integers(-(10**9), 10**9).map(Decimal),
    st.decimals(min_value=-(10**6), max_value=10**6, places=3, allow_nan=False),
).map(A.Number)
literals = st.one_of(
    numbers,
    st.text(max_size=12).map(A.String),
    st.booleans().map(A.Boolean),
    st.dates().map(A.DateLiteral),
    st.builds(A.RelativeDate, st.integers(0, 10**5), st.sampled_from("dwmy")),
    st.just(A.Today()),
)
attrs = names.map(A.Attr)
arg_values = st.one_of(literals, st.lists(literals, min_size=1, max_size=3).map(tuple))
comparison_ops = st.sampled_from(A.COMPARISON_OPS)

call_args = st.lists(
    st.one_of(
        st.builds(A.Arg, names, st.just(":"), arg_values),
        st.builds(A.Arg, st.none(), st.just(":"), arg_values),
    ),
    max_size=3,
).map(tuple)
matches_args = st.lists(st.builds(A.Arg, names, comparison_ops, arg_values), max_size=3).map(tuple)

predicates = st.one_of(
    st.builds(A.Comparison, attrs, comparison_ops, literals),
    st.builds(A.Between, attrs, literals, literals, st.booleans()),
    st.builds(
        A.InList, attrs, st.lists(literals, min_size=1, max_size=4).map(tuple), st.booleans()
    ),
    st.builds(A.IsNull, attrs, st.booleans()),
    st.builds(A.Contains, attrs, literals, st.booleans()),
    st.builds(A.FunctionCall, names, call_args, st.just(False)),
    st.builds(A.FunctionCall, names, matches_args, st.just(True)),
)
exprs = st.recursive(
    predicates,
    lambda inner: st.one_of(
        st.builds(A.Not, inner),
        st.builds(A.And, inner, inner),
        st.builds(A.Or, inner, inner),
    ),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None)
@given(exprs)
def test_parse_of_printed_ast_is_the_ast(expr):
    text = to_text(expr)
    assert parse(text) == expr
    assert to_text(parse(text)) == text


# ------------------------------------------------------------------ generated rule texts
def any_case(word: str) -> st.SearchStrategy[str]:
    return st.lists(st.booleans(), min_size=len(word), max_size=len(word)).map(
        lambda flags: "".join(
            c.upper() if f else c.lower() for c, f in zip(word, flags, strict=True)
        )
    )


spaces = st.sampled_from([" ", "  ", "\n", "\t "])
value_texts = st.one_of(
    st.integers(-1000, 1000).map(str),
    st.sampled_from(["1.50", ".5", "-0.25", "100"]),
    st.text(max_size=8).map(lambda s: "'" + s.replace("'", "''") + "'"),
    st.sampled_from(["'a''; DROP TABLE customers; --'", "'x AND y'", "'NULL'"]),
    any_case("true"),
    any_case("false"),
    any_case("today"),
    st.sampled_from(["2024-02-29", "1999-12-31"]),
    st.builds(lambda n, u: f"-{n}{u}", st.integers(0, 999), st.sampled_from("dwmyDWMY")),
)


@st.composite
def predicate_texts(draw) -> str:
    name = draw(names)
    sp = draw(spaces)
    kind = draw(st.integers(0, 6))
    if kind == 0:
        op = draw(st.sampled_from(["=", "!=", "<>", "<", "<=", ">", ">="]))
        return f"{name}{sp}{op}{draw(spaces)}{draw(value_texts)}"
    if kind == 1:
        neg = draw(st.sampled_from(["", draw(any_case("not")) + " "]))
        low, high = draw(value_texts), draw(value_texts)
        return f"{name} {neg}{draw(any_case('between'))} {low} {draw(any_case('and'))} {high}"
    if kind == 2:
        neg = draw(st.sampled_from(["", "NOT "]))
        values = draw(st.lists(value_texts, min_size=1, max_size=3))
        return f"{name} {neg}{draw(any_case('in'))}{sp}(" + f",{sp}".join(values) + ")"
    if kind == 3:
        neg = draw(st.sampled_from(["", draw(any_case("not")) + " "]))
        return f"{name} {draw(any_case('is'))} {neg}{draw(any_case('null'))}"
    if kind == 4:
        neg = draw(st.sampled_from(["", "not "]))
        return f"{name} {neg}{draw(any_case('contains'))} {draw(value_texts)}"
    if kind == 5:
        args = draw(st.lists(st.builds(lambda n, v: f"{n}:{v}", names, value_texts), max_size=3))
        suffix = draw(st.sampled_from(["", " = true", " = false", " != true"]))
        return f"{name}({', '.join(args)}){suffix}"
    args = draw(
        st.lists(
            st.builds(
                lambda n, o, v: f"{n} {o} {v}", names, st.sampled_from(["=", ">"]), value_texts
            ),
            max_size=3,
        )
    )
    return f"{name} {draw(any_case('matches'))} ({', '.join(args)})"


rule_texts = st.recursive(
    predicate_texts(),
    lambda inner: st.one_of(
        st.builds(lambda a: f"({a})", inner),
        st.builds(lambda n, a: f"{n} {a}", any_case("not"), inner),
        st.builds(lambda a, k, b: f"{a} {k} {b}", inner, any_case("and"), inner),
        st.builds(lambda a, k, b: f"{a} {k} {b}", inner, any_case("or"), inner),
    ),
    max_leaves=6,
)


@settings(max_examples=200, deadline=None)
@given(rule_texts)
def test_printed_form_of_a_rule_parses_to_the_same_ast(text):
    expr = parse(text)
    canonical = to_text(expr)
    assert parse(canonical) == expr
    assert to_text(parse(canonical)) == canonical


def test_canonical_form_examples():
    assert to_text(parse("a=1 and (b=2 or c=3)")) == "a = 1 AND (b = 2 OR c = 3)"
    assert to_text(parse("(a=1 and b=2) or c=3")) == "a = 1 AND b = 2 OR c = 3"
    assert to_text(parse("not (a=1 or b=2)")) == "NOT (a = 1 OR b = 2)"
    assert to_text(parse("a = 1 or (b = 2 or c = 3)")) == "a = 1 OR (b = 2 OR c = 3)"
    assert to_text(parse("x <> 'it''s'")) == "x != 'it''s'"
    assert to_text(parse("d > -90D and d < Today")) == "d > -90d AND d < today"
    assert (
        to_text(parse("products_purchased(category:'boots',since:-90d)"))
        == "products_purchased(category: 'boots', since: -90d)"
    )
