"""Tokenizer for the rule language. Keywords are case-insensitive; strings are single-quoted
with ``''`` for a quote inside, and everything between the quotes is plain data."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from segmint.rules.errors import RuleSyntaxError

KEYWORDS = frozenset(
    {"AND", "OR", "NOT", "IN", "IS", "NULL", "BETWEEN", "CONTAINS", "MATCHES", "TRUE", "FALSE",
     "TODAY"}
)  # fmt: skip


@dataclass(frozen=True)
class Token:
    """``kind`` is one of IDENT, KEYWORD (value upper-cased), NUMBER, STRING, DATE, RELDATE, OP,
    LPAREN, RPAREN, COMMA, COLON, EOF."""

    kind: str
    value: object
    pos: int
    text: str


_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*", re.ASCII)
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?![A-Za-z0-9_])", re.ASCII)
_RELDATE = re.compile(r"-(\d+)([dDwWmMyY])(?![A-Za-z0-9_])", re.ASCII)
_NUMBER = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)", re.ASCII)
_OPS = ("<=", ">=", "!=", "<>", "=", "<", ">")
_PUNCT = {"(": "LPAREN", ")": "RPAREN", ",": "COMMA", ":": "COLON"}


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens, ending with an EOF token; raises :class:`RuleSyntaxError`."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if ch == "'":
            j, parts = i + 1, []
            while True:
                k = text.find("'", j)
                if k == -1:
                    raise RuleSyntaxError(
                        "Unterminated string",
                        i,
                        text,
                        hint="close the string with a single quote; write a quote inside as ''",
                    )
                parts.append(text[j:k])
                if text.startswith("''", k):
                    parts.append("'")
                    j = k + 2
                    continue
                tokens.append(Token("STRING", "".join(parts), i, text[i : k + 1]))
                i = k + 1
                break
            continue
        if ch in _PUNCT:
            tokens.append(Token(_PUNCT[ch], ch, i, ch))
            i += 1
            continue
        op = next((o for o in _OPS if text.startswith(o, i)), None)
        if op is not None:
            tokens.append(Token("OP", "!=" if op == "<>" else op, i, op))
            i += len(op)
            continue
        m = _DATE.match(text, i)
        if m:
            try:
                value = date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError:
                raise RuleSyntaxError(
                    f"Invalid date {m[0]}", i, text, hint="dates are written YYYY-MM-DD"
                ) from None
            tokens.append(Token("DATE", value, i, m[0]))
            i = m.end()
            continue
        m = _RELDATE.match(text, i)
        if m:
            tokens.append(Token("RELDATE", (int(m[1]), m[2].lower()), i, m[0]))
            i = m.end()
            continue
        m = _NUMBER.match(text, i)
        if m:
            end = m.end()
            if end < n and (text[end].isalnum() or text[end] == "_"):
                hint = "write a number without a suffix"
                if text[end].lower() in "dwmy" and not m[0].startswith("-"):
                    hint = f"relative dates are written with a minus: -{m[0]}{text[end]}"
                raise RuleSyntaxError(f"Invalid number {text[i : end + 1]!r}", i, text, hint=hint)
            tokens.append(Token("NUMBER", Decimal(m[0]), i, m[0]))
            i = end
            continue
        m = _IDENT.match(text, i)
        if m:
            word = m[0]
            if word.upper() in KEYWORDS:
                tokens.append(Token("KEYWORD", word.upper(), i, word))
            else:
                tokens.append(Token("IDENT", word, i, word))
            i = m.end()
            continue
        hint = None
        if ch == '"':
            hint = "strings are written in single quotes: 'text'"
        elif ch == "!":
            hint = "write 'not equal' as != or NOT"
        raise RuleSyntaxError(f"Unexpected character {ch!r}", i, text, hint=hint)
    tokens.append(Token("EOF", None, n, ""))
    return tokens
