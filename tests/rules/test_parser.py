from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from segmint.rules import RuleSyntaxError, parse
from segmint.rules.ast import (
    And,
    Arg,
    Attr,
    Between,
    Boolean,
    Comparison,
    Contains,
    DateLiteral,
    FunctionCall,
    InList,
    IsNull,
    Not,
    Number,
    Or,
    RelativeDate,
    String,
    Today,
    function_calls,
)


def cmp(name: str, op: str, value) -> Comparison:
    return Comparison(Attr(name), op, value)


A1 = cmp("a", "=", Number(Decimal(1)))
B2 = cmp("b", "=", Number(Decimal(2)))
C3 = cmp("c", "=", Number(Decimal(3)))


def test_and_binds_tighter_than_or():
    assert parse("a = 1 OR b = 2 AND c = 3") == Or(A1, And(B2, C3))
    assert parse("a = 1 AND b = 2 OR c = 3") == Or(And(A1, B2), C3)


def test_not_binds_tighter_than_and():
    assert parse("NOT a = 1 AND b = 2") == And(Not(A1), B2)
    assert parse("NOT (a = 1 AND b = 2)") == Not(And(A1, B2))
    assert parse("NOT NOT a = 1") == Not(Not(A1))


def test_parentheses_override_precedence_and_chains_are_left_associative():
    assert parse("(a = 1 OR b = 2) AND c = 3") == And(Or(A1, B2), C3)
    assert parse("a = 1 AND b = 2 AND c = 3") == And(And(A1, B2), C3)
    assert parse("a = 1 AND (b = 2 AND c = 3)") == And(A1, And(B2, C3))
    assert parse("((a = 1))") == A1


def test_keywords_are_case_insensitive():
    assert parse("a = 1 and not b = 2 Or c = 3") == Or(And(A1, Not(B2)), C3)
    assert parse("x is not null") == IsNull(Attr("x"), negated=True)
    assert parse("x Between 1 aNd 2") == Between(Attr("x"), Number(Decimal(1)), Number(Decimal(2)))
    assert parse("d > TODAY") == cmp("d", ">", Today())
    assert parse("b = TRUE") == cmp("b", "=", Boolean(True))


@pytest.mark.parametrize("op", ["=", "!=", "<", "<=", ">", ">="])
def test_every_comparison_operator(op):
    assert parse(f"amount_spent {op} 500") == cmp("amount_spent", op, Number(Decimal(500)))


def test_sql_not_equal_is_the_same_as_bang_equal():
    assert parse("a <> 1") == cmp("a", "!=", Number(Decimal(1)))


def test_numbers():
    assert parse("aov > 100.50") == cmp("aov", ">", Number(Decimal("100.50")))
    assert parse("x = -3") == cmp("x", "=", Number(Decimal(-3)))
    assert parse("x = .5") == cmp("x", "=", Number(Decimal("0.5")))


def test_between_in_contains_isnull_and_negations():
    x = Attr("x")
    one, two = Number(Decimal(1)), Number(Decimal(2))
    assert parse("x BETWEEN 1 AND 2") == Between(x, one, two)
    assert parse("x NOT BETWEEN 1 AND 2") == Between(x, one, two, negated=True)
    assert parse("x IN (1, 2)") == InList(x, (one, two))
    assert parse("x NOT IN (1,2)") == InList(x, (one, two), negated=True)
    assert parse("country IN ('US', 'CA')") == InList(Attr("country"), (String("US"), String("CA")))
    assert parse("tags CONTAINS 'vip'") == Contains(Attr("tags"), String("vip"))
    assert parse("tags NOT CONTAINS 'vip'") == Contains(Attr("tags"), String("vip"), True)
    assert parse("birth_year IS NULL") == IsNull(Attr("birth_year"))
    assert parse("birth_year IS NOT NULL") == IsNull(Attr("birth_year"), negated=True)


def test_between_inside_and_chain():
    expr = parse("x BETWEEN 1 AND 2 AND y = 3")
    assert expr == And(
        Between(Attr("x"), Number(Decimal(1)), Number(Decimal(2))),
        cmp("y", "=", Number(Decimal(3))),
    )


def test_dates_absolute_relative_and_today():
    assert parse("d < 2024-02-29") == cmp("d", "<", DateLiteral(date(2024, 2, 29)))
    assert parse("d < -90d") == cmp("d", "<", RelativeDate(90, "d"))
    assert parse("d >= -4W") == cmp("d", ">=", RelativeDate(4, "w"))
    assert parse("d >= -6m") == cmp("d", ">=", RelativeDate(6, "m"))
    assert parse("d >= -10y") == cmp("d", ">=", RelativeDate(10, "y"))
    assert parse("d BETWEEN -30d AND today") == Between(Attr("d"), RelativeDate(30, "d"), Today())


def test_strings_escape_quotes_and_keep_everything_else_as_data():
    assert parse("x = 'a''; DROP TABLE customers; --'") == cmp(
        "x", "=", String("a'; DROP TABLE customers; --")
    )
    assert parse("x = 'a AND b OR NOT c IS NULL'") == cmp(
        "x", "=", String("a AND b OR NOT c IS NULL")
    )
    assert parse("x = ''") == cmp("x", "=", String(""))
    assert parse("x = ''''") == cmp("x", "=", String("'"))
    assert parse("x = '\"); --\\'") == cmp("x", "=", String('"); --\\'))


def test_function_call_forms():
    assert parse("products_purchased(category: 'boots', since: -90d)") == FunctionCall(
        "products_purchased",
        (Arg("category", ":", String("boots")), Arg("since", ":", RelativeDate(90, "d"))),
    )
    assert parse("products_purchased MATCHES (tag = 'boots', date > -90d)") == FunctionCall(
        "products_purchased",
        (Arg("tag", "=", String("boots")), Arg("date", ">", RelativeDate(90, "d"))),
        matches=True,
    )
    assert parse("NOT member_of('vip')") == Not(
        FunctionCall("member_of", (Arg(None, ":", String("vip")),))
    )
    assert parse("products_purchased(id: (1, 2))") == FunctionCall(
        "products_purchased", (Arg("id", ":", (Number(Decimal(1)), Number(Decimal(2)))),)
    )
    assert parse("f()") == FunctionCall("f", ())


def test_shopify_legacy_equals_true_form():
    call = FunctionCall("products_purchased", (Arg("tag", ":", String("boots")),))
    assert parse("products_purchased(tag: 'boots') = true") == call
    assert parse("products_purchased(tag: 'boots') = false") == Not(call)
    assert parse("products_purchased(tag: 'boots') != false") == call
    assert parse("products_purchased NOT MATCHES (tag = 'boots')") == Not(
        FunctionCall("products_purchased", (Arg("tag", "=", String("boots")),), matches=True)
    )


def test_function_calls_helper_finds_member_of_references():
    expr = parse("member_of('a') AND (x = 1 OR NOT member_of('b')) AND products_purchased()")
    refs = [call.args[0].value.value for call in function_calls(expr, "member_of")]
    assert refs == ["a", "b"]


def test_positions_are_recorded_but_do_not_affect_equality():
    expr = parse("   amount_spent > 5")
    assert expr.attr.pos == 3
    assert expr.value.pos == 18
    assert expr == parse("amount_spent>5")


def syntax_error(text: str) -> RuleSyntaxError:
    with pytest.raises(RuleSyntaxError) as info:
        parse(text)
    return info.value


def test_error_message_has_the_rule_a_caret_and_a_hint():
    text = "number_of_orders >= 3 AND amount_spent 500"
    err = syntax_error(text)
    assert err.position == text.index("500") == 39
    assert str(err) == (
        "Expected an operator after 'amount_spent', found '500'\n"
        "  number_of_orders >= 3 AND amount_spent 500\n"
        "  " + " " * 39 + "^\n"
        "Hint: after an attribute write an operator: = != < <= > >= BETWEEN, IN (...), "
        "CONTAINS, IS NULL, IS NOT NULL"
    )


@pytest.mark.parametrize(
    ("text", "position", "message", "hint"),
    [
        ("", 0, "Empty rule", "number_of_orders >= 3"),
        ("a = 1 AND (b = 2", 16, "Expected ')'", "matching )"),
        ("a = 1)", 5, "Unexpected ')'", "no opening"),
        ("a = 1 b = 2", 6, "Unexpected 'b'", "AND or OR"),
        ("x = 'abc", 4, "Unterminated string", "''"),
        ('x = "abc"', 4, "Unexpected character", "single quotes"),
        ("d < 90d", 4, "Invalid number", "-90d"),
        ("d < 2024-02-30", 4, "Invalid date 2024-02-30", "YYYY-MM-DD"),
        ("x = US", 4, "Expected a value, found 'US'", "'US'"),
        ("x = NULL", 4, "Expected a value", "IS NULL"),
        ("x IS 3", 5, "Expected NULL after IS", "IS NOT NULL"),
        ("x BETWEEN 1 OR 2", 12, "Expected AND in BETWEEN", "low AND high"),
        ("x IN 1", 5, "Expected '(' after IN", "IN ("),
        ("AND x = 1", 0, "found the keyword 'AND'", "reserved"),
        ("a = 1 AND", 9, "found end of rule", "attribute name"),
        ("f(a: 1", 6, "Expected ',' or ')'", None),
        ("f MATCHES (a 1)", 13, "Expected an operator after 'a'", None),
    ],
)
def test_syntax_errors_point_at_the_position(text, position, message, hint):
    err = syntax_error(text)
    assert err.position == position
    assert message in err.message
    if hint is not None:
        assert hint in err.hint
    lines = str(err).splitlines()
    assert lines[1] == "  " + text
    assert lines[2] == "  " + " " * position + "^"


def test_caret_on_the_right_line_of_a_multiline_rule():
    err = syntax_error("a = 1\nAND b ! 2")
    assert str(err).splitlines()[1:3] == ["  AND b ! 2", "        ^"]
