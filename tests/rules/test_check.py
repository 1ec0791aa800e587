from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from segmint.rules import Alias, Attribute, Catalog, RuleTypeError, check, parse, parse_rule
from segmint.rules.ast import (
    Arg,
    Attr,
    Comparison,
    Contains,
    DateLiteral,
    FunctionCall,
    InList,
    Not,
    RelativeDate,
    String,
)


def type_error(text: str, catalog: Catalog) -> RuleTypeError:
    with pytest.raises(RuleTypeError) as info:
        parse_rule(text, catalog)
    return info.value


def test_valid_rules_pass_unchanged(catalog):
    for text in [
        "number_of_orders >= 3 AND amount_spent > 500",
        "last_order_date < -180d AND number_of_orders >= 3 AND aov > 100",
        "email_open_rate_90d >= 0.3",
        "country IN ('US', 'CA')",
        "birth_year IS NULL",
        "tags CONTAINS 'vip' AND tags NOT CONTAINS 'wholesale'",
        "first_order_date BETWEEN 2024-01-01 AND today",
        "accepts_marketing = true",
    ]:
        assert parse_rule(text, catalog) == parse(text)


def test_unknown_attribute_suggests_the_nearest_name_with_a_caret(catalog):
    text = "number_of_orders >= 3 AND ammount_spent > 500"
    err = type_error(text, catalog)
    assert err.message == "Unknown attribute 'ammount_spent'"
    assert err.position == text.index("ammount_spent")
    assert err.hint == "did you mean 'amount_spent'?"
    assert str(err) == (
        "Unknown attribute 'ammount_spent'\n"
        f"  {text}\n"
        "  " + " " * text.index("ammount_spent") + "^\n"
        "Hint: did you mean 'amount_spent'?"
    )


def test_unknown_attribute_suggests_shopify_alias_and_case(catalog):
    assert type_error("customer_tag CONTAINS 'a'", catalog).hint == "did you mean 'customer_tags'?"
    assert type_error("Country = 'US'", catalog).hint == "did you mean 'country'?"
    assert type_error("zzz = 1", catalog).hint is None


@pytest.mark.parametrize(
    ("text", "at", "message"),
    [
        ("number_of_orders CONTAINS 3", "CONTAINS", "CONTAINS needs a list attribute"),
        ("country CONTAINS 'US'", "CONTAINS", "CONTAINS needs a list attribute"),
        ("tags = 'vip'", "=", "comparison does not apply to the list attribute 'tags'"),
        ("tags IN ('a')", "IN", "IN does not apply to the list attribute"),
        ("country > 'US'", ">", "Operator > does not apply to string attribute"),
        ("accepts_marketing BETWEEN 1 AND 2", "BETWEEN", "BETWEEN does not apply to boolean"),
        ("accepts_marketing IN (true)", "IN", "IN does not apply to boolean"),
        ("amount_spent > '500'", "'500'", "'amount_spent' is money; > needs a number"),
        ("amount_spent > -90d", "-90d", "not a relative date (-90d)"),
        ("last_order_date < 'yesterday'", "'yesterday'", "'yesterday' is not a date"),
        ("last_order_date < 5", "5", "needs a date"),
        ("country = 5", "5", "needs a 'string'"),
        ("accepts_marketing = 'yes'", "'yes'", "needs true or false"),
        ("email_consent = 'maybe'", "'maybe'", "'maybe' is not a value of 'email_consent'"),
        ("email_consent IN ('subscribed', 'nope')", "'nope'", "'nope' is not a value"),
        ("tags CONTAINS 3", "3", "needs a 'string'"),
        ("first_order_date BETWEEN 2024-01-01 AND 'x'", "'x'", "'x' is not a date"),
    ],
)
def test_operator_and_value_mismatches_point_at_the_culprit(catalog, text, at, message):
    err = type_error(text, catalog)
    assert message in err.message
    assert err.position == text.index(at)
    assert str(err).splitlines()[2] == "  " + " " * text.index(at) + "^"


def test_enum_error_lists_allowed_values(catalog):
    err = type_error("email_subscription_status = 'YES'", catalog)
    assert err.hint == (
        "allowed values: 'subscribed', 'not_subscribed', 'pending', 'unsubscribed', "
        "'invalid', 'redacted'"
    )


def test_quoted_iso_date_is_a_date(catalog):
    assert parse_rule("last_order_date < '2024-01-31'", catalog) == Comparison(
        Attr("last_order_date"), "<", DateLiteral(date(2024, 1, 31))
    )


def test_shopify_aliases_resolve_to_catalog_names(catalog):
    assert parse_rule("customer_tags CONTAINS 'vip'", catalog) == Contains(
        Attr("tags"), String("vip")
    )
    # customer_countries is a list in Shopify, country a single value in segmint.
    assert parse_rule("customer_countries CONTAINS 'US'", catalog) == Comparison(
        Attr("country"), "=", String("US")
    )
    assert parse_rule("customer_countries NOT CONTAINS 'US'", catalog) == Comparison(
        Attr("country"), "!=", String("US")
    )
    assert parse_rule("email_subscription_status = 'SUBSCRIBED'", catalog) == Comparison(
        Attr("email_consent"), "=", String("subscribed")
    )
    assert parse_rule("email_subscription_status != 'NOT_SUBSCRIBED'", catalog) == Comparison(
        Attr("email_consent"), "!=", String("not_subscribed")
    )
    assert parse_rule("rfm_group IN ('CHAMPIONS', 'LOYAL', 'CANT_LOSE_THEM')", catalog) == InList(
        Attr("rfm_group"),
        (String("champions"), String("loyal_customers"), String("cant_lose_them")),
    )


def test_alias_mechanism_is_general():
    cat = Catalog(
        [Attribute("consent", "enum", ("yes", "no")), Attribute("city", "string")],
        aliases={
            "email_subscription_status": Alias(
                "consent", {"SUBSCRIBED": "yes", "UNSUBSCRIBED": "no"}
            ),
            "customer_cities": Alias("city", scalar_list=True),
        },
    )
    assert parse_rule("email_subscription_status = 'UNSUBSCRIBED'", cat) == Comparison(
        Attr("consent"), "=", String("no")
    )
    assert parse_rule("customer_cities CONTAINS 'Paris'", cat) == Comparison(
        Attr("city"), "=", String("Paris")
    )
    with pytest.raises(ValueError, match="unknown attribute 'nowhere'"):
        Catalog([Attribute("a", "string")], aliases={"b": "nowhere"})
    with pytest.raises(ValueError, match="unknown type"):
        Attribute("a", "text")  # type: ignore[arg-type]


def test_functions_resolve_argument_names(catalog):
    boots = String("boots")
    expected = FunctionCall(
        "products_purchased",
        (Arg("tag", ":", boots), Arg("since", ":", RelativeDate(90, "d"))),
    )
    assert parse_rule("products_purchased(tag: 'boots', date: -90d)", catalog) == expected
    assert (
        parse_rule("products_purchased MATCHES (tag = 'boots', date > -90d)", catalog) == expected
    )
    assert parse_rule(
        "products_purchased MATCHES (date <= '2024-01-01', id = ('a', 'b'))", catalog
    ) == FunctionCall(
        "products_purchased",
        (
            Arg("product", ":", (String("a"), String("b"))),
            Arg("until", ":", DateLiteral(date(2024, 1, 1))),
        ),
    )
    assert parse_rule("NOT member_of('vip')", catalog) == Not(
        FunctionCall("member_of", (Arg("segment", ":", String("vip")),))
    )


@pytest.mark.parametrize(
    ("text", "at", "message", "hint"),
    [
        ("product_purchased(tag: 'a')", "product_purchased", "Unknown function", "did you mean"),
        ("amount_spent(x: 1)", "amount_spent", "is an attribute, not a function", "compare it"),
        ("member_of = 'vip'", "member_of", "is a function, not an attribute", "member_of(...)"),
        ("products_purchased(categry: 'a')", "categry", "Unknown argument 'categry'", "category"),
        ("products_purchased(since: 'soon')", "'soon'", "Argument 'since' of", None),
        ("products_purchased(quantity: 'x')", "'x'", "is integer; got a string", None),
        ("products_purchased(since: (-1d, -2d))", "since", "takes one value, not a list", None),
        ("products_purchased(tag: 'a', tag: 'b')", "tag: 'b'", "given twice", None),
        ("products_purchased(date: -1d, since: -2d)", "since", "given twice", None),
        ("products_purchased MATCHES (tag > 'a')", "tag", "Operator > is not supported", None),
        ("member_of()", "member_of", "needs the argument 'segment'", None),
        ("member_of('a', 'b')", "'b'", "Too many unnamed arguments", None),
        ("products_purchased('boots')", "'boots'", "Too many unnamed arguments", None),
    ],
)
def test_function_errors(catalog, text, at, message, hint):
    err = type_error(text, catalog)
    assert message in err.message
    assert err.position == text.index(at)
    if hint is not None:
        assert hint in err.hint


def test_check_without_text_raises_without_caret(catalog):
    with pytest.raises(RuleTypeError) as info:
        check(parse("x = 1"), catalog)
    assert info.value.rule is None
    assert str(info.value) == "Unknown attribute 'x'"


def test_number_values_keep_decimals(catalog):
    expr = parse_rule("email_open_rate_90d >= 0.3", catalog)
    assert expr.value.value == Decimal("0.3")
