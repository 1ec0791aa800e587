"""Recursive-descent parser: rule text -> AST.

Grammar (keywords case-insensitive; precedence NOT > AND > OR)::

    rule       := or_expr EOF
    or_expr    := and_expr ("OR" and_expr)*
    and_expr   := not_expr ("AND" not_expr)*
    not_expr   := "NOT" not_expr | primary
    primary    := "(" or_expr ")" | predicate
    predicate  := IDENT "(" [arg ("," arg)*] ")" [("=" | "!=") bool]
                | IDENT ["NOT"] "MATCHES" "(" [marg ("," marg)*] ")"
                | IDENT op value
                | IDENT ["NOT"] "BETWEEN" value "AND" value
                | IDENT ["NOT"] "IN" "(" value ("," value)* ")"
                | IDENT ["NOT"] "CONTAINS" value
                | IDENT "IS" ["NOT"] "NULL"
    arg        := IDENT ":" argvalue | argvalue
    marg       := IDENT op argvalue
    argvalue   := value | "(" value ("," value)* ")"
    value      := NUMBER | STRING | DATE | RELDATE | "TODAY" | "TRUE" | "FALSE"
"""

from __future__ import annotations

from segmint.rules import ast as A
from segmint.rules.errors import RuleSyntaxError
from segmint.rules.lexer import Token, tokenize

_OPERATOR_HINT = (
    "after an attribute write an operator: = != < <= > >= BETWEEN, IN (...), CONTAINS, "
    "IS NULL, IS NOT NULL"
)


def parse(text: str) -> A.Expr:
    """Parse a rule into its AST; raises :class:`RuleSyntaxError` with the position."""
    return _Parser(text).parse()


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    # -------------------------------------------------------------- helpers
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def peek(self, k: int = 1) -> Token:
        return self.tokens[min(self.i + k, len(self.tokens) - 1)]

    def advance(self) -> Token:
        tok = self.tokens[self.i]
        if tok.kind != "EOF":
            self.i += 1
        return tok

    def is_kw(self, word: str, tok: Token | None = None) -> bool:
        tok = tok or self.tok
        return tok.kind == "KEYWORD" and tok.value == word

    def error(self, message: str, tok: Token | None = None, hint: str | None = None):
        tok = tok or self.tok
        return RuleSyntaxError(message, tok.pos, self.text, hint=hint)

    def describe(self, tok: Token) -> str:
        return "end of rule" if tok.kind == "EOF" else repr(tok.text)

    def expect(self, kind: str, what: str, hint: str | None = None) -> Token:
        if self.tok.kind != kind:
            raise self.error(f"Expected {what}, found {self.describe(self.tok)}", hint=hint)
        return self.advance()

    # -------------------------------------------------------------- grammar
    def parse(self) -> A.Expr:
        if self.tok.kind == "EOF":
            raise self.error("Empty rule", hint="write a condition such as number_of_orders >= 3")
        expr = self.or_expr()
        if self.tok.kind != "EOF":
            hint = "join conditions with AND or OR"
            if self.tok.kind == "RPAREN":
                hint = "this closing parenthesis has no opening one"
            raise self.error(f"Unexpected {self.describe(self.tok)}", hint=hint)
        return expr

    def or_expr(self) -> A.Expr:
        left = self.and_expr()
        while self.is_kw("OR"):
            tok = self.advance()
            left = A.Or(left, self.and_expr(), pos=tok.pos)
        return left

    def and_expr(self) -> A.Expr:
        left = self.not_expr()
        while self.is_kw("AND"):
            tok = self.advance()
            left = A.And(left, self.not_expr(), pos=tok.pos)
        return left

    def not_expr(self) -> A.Expr:
        if self.is_kw("NOT"):
            tok = self.advance()
            return A.Not(self.not_expr(), pos=tok.pos)
        return self.primary()

    def primary(self) -> A.Expr:
        if self.tok.kind == "LPAREN":
            open_tok = self.advance()
            expr = self.or_expr()
            if self.tok.kind != "RPAREN":
                raise self.error(
                    f"Expected ')' to close the '(' at position {open_tok.pos + 1}, "
                    f"found {self.describe(self.tok)}",
                    hint="every ( needs a matching )",
                )
            self.advance()
            return expr
        if self.tok.kind == "IDENT":
            return self.predicate()
        if self.tok.kind == "KEYWORD" and self.tok.value not in ("TRUE", "FALSE", "NULL"):
            raise self.error(
                f"Expected a condition, found the keyword {self.tok.text!r}",
                hint=f"{self.tok.text} is a reserved word and cannot name an attribute",
            )
        raise self.error(
            f"Expected a condition, found {self.describe(self.tok)}",
            hint="a condition starts with an attribute name, e.g. amount_spent > 100",
        )

    def predicate(self) -> A.Expr:
        name_tok = self.advance()
        attr = A.Attr(name_tok.text, pos=name_tok.pos)
        tok = self.tok
        if tok.kind == "LPAREN":
            return self.call(name_tok)
        if self.is_kw("MATCHES"):
            return self.matches(name_tok)
        if tok.kind == "OP":
            self.advance()
            return A.Comparison(attr, tok.value, self.value(), pos=tok.pos)  # type: ignore[arg-type]
        if self.is_kw("IS"):
            self.advance()
            negated = False
            if self.is_kw("NOT"):
                self.advance()
                negated = True
            if not self.is_kw("NULL"):
                raise self.error(
                    f"Expected NULL after IS, found {self.describe(self.tok)}",
                    hint="write IS NULL or IS NOT NULL",
                )
            self.advance()
            return A.IsNull(attr, negated, pos=tok.pos)
        negated = False
        if self.is_kw("NOT"):
            nxt = self.peek()
            if nxt.kind == "KEYWORD" and nxt.value in ("BETWEEN", "IN", "CONTAINS", "MATCHES"):
                self.advance()
                negated = True
                if nxt.value == "MATCHES":
                    return A.Not(self.matches(name_tok), pos=tok.pos)
        if self.is_kw("BETWEEN"):
            self.advance()
            low = self.value()
            if not self.is_kw("AND"):
                raise self.error(
                    f"Expected AND in BETWEEN, found {self.describe(self.tok)}",
                    hint="write BETWEEN low AND high",
                )
            self.advance()
            return A.Between(attr, low, self.value(), negated, pos=tok.pos)
        if self.is_kw("IN"):
            self.advance()
            return A.InList(attr, self.value_list("IN"), negated, pos=tok.pos)
        if self.is_kw("CONTAINS"):
            self.advance()
            return A.Contains(attr, self.value(), negated, pos=tok.pos)
        raise self.error(
            f"Expected an operator after {name_tok.text!r}, found {self.describe(tok)}",
            hint=_OPERATOR_HINT,
        )

    def call(self, name_tok: Token) -> A.Expr:
        self.advance()  # (
        args: list[A.Arg] = []
        if self.tok.kind != "RPAREN":
            while True:
                if self.tok.kind == "IDENT" and self.peek().kind == "COLON":
                    arg_tok = self.advance()
                    self.advance()
                    args.append(A.Arg(arg_tok.text, ":", self.arg_value(), pos=arg_tok.pos))
                else:
                    pos = self.tok.pos
                    args.append(A.Arg(None, ":", self.arg_value(), pos=pos))
                if self.tok.kind == "COMMA":
                    self.advance()
                    continue
                break
        self.expect("RPAREN", "',' or ')' in the argument list", hint="write name: value, ...")
        expr: A.Expr = A.FunctionCall(name_tok.text, tuple(args), False, pos=name_tok.pos)
        # Shopify's legacy form: products_purchased(...) = true / = false.
        nxt = self.peek()
        if (
            self.tok.kind == "OP"
            and self.tok.value in ("=", "!=")
            and nxt.kind == "KEYWORD"
            and nxt.value in ("TRUE", "FALSE")
        ):
            op_tok = self.advance()
            truth = self.advance().value == "TRUE"
            if truth != (op_tok.value == "="):
                expr = A.Not(expr, pos=op_tok.pos)
        return expr

    def matches(self, name_tok: Token) -> A.Expr:
        self.advance()  # MATCHES
        self.expect("LPAREN", "'(' after MATCHES", hint="write name MATCHES (arg = value, ...)")
        args: list[A.Arg] = []
        if self.tok.kind != "RPAREN":
            while True:
                arg_tok = self.expect("IDENT", "an argument name", hint="write arg = value")
                op_tok = self.expect("OP", f"an operator after {arg_tok.text!r}")
                args.append(A.Arg(arg_tok.text, op_tok.value, self.arg_value(), pos=arg_tok.pos))  # type: ignore[arg-type]
                if self.tok.kind == "COMMA":
                    self.advance()
                    continue
                break
        self.expect("RPAREN", "',' or ')' in MATCHES (...)")
        return A.FunctionCall(name_tok.text, tuple(args), True, pos=name_tok.pos)

    def arg_value(self) -> A.Literal_ | tuple[A.Literal_, ...]:
        if self.tok.kind == "LPAREN":
            return self.value_list("the list")
        return self.value()

    def value_list(self, what: str) -> tuple[A.Literal_, ...]:
        self.expect("LPAREN", f"'(' after {what}", hint="write IN ('a', 'b')")
        values = [self.value()]
        while self.tok.kind == "COMMA":
            self.advance()
            values.append(self.value())
        self.expect("RPAREN", "',' or ')' in the list")
        return tuple(values)

    def value(self) -> A.Literal_:
        tok = self.tok
        if tok.kind == "NUMBER":
            self.advance()
            return A.Number(tok.value, pos=tok.pos)  # type: ignore[arg-type]
        if tok.kind == "STRING":
            self.advance()
            return A.String(tok.value, pos=tok.pos)  # type: ignore[arg-type]
        if tok.kind == "DATE":
            self.advance()
            return A.DateLiteral(tok.value, pos=tok.pos)  # type: ignore[arg-type]
        if tok.kind == "RELDATE":
            self.advance()
            amount, unit = tok.value  # type: ignore[misc]
            return A.RelativeDate(amount, unit, pos=tok.pos)
        if tok.kind == "KEYWORD" and tok.value in ("TRUE", "FALSE"):
            self.advance()
            return A.Boolean(tok.value == "TRUE", pos=tok.pos)
        if tok.kind == "KEYWORD" and tok.value == "TODAY":
            self.advance()
            return A.Today(pos=tok.pos)
        hint = "values are numbers, 'strings', true/false, dates (2024-01-31, -90d, today)"
        if tok.kind == "IDENT":
            hint = f"if {tok.text!r} is text, quote it: '{tok.text}'"
        elif tok.kind == "KEYWORD" and tok.value == "NULL":
            hint = "test for empty values with IS NULL / IS NOT NULL"
        raise self.error(f"Expected a value, found {self.describe(tok)}", hint=hint)
