"""A safe parser for arithmetic expressions over integers: + - * / (also × ÷) and parentheses.

Never `eval`: a small recursive-descent parser over exact fractions. It also reports which number
literals the expression used, so countdown can check that each given number is used once.
"""

from __future__ import annotations

import re
from fractions import Fraction

_TOKEN = re.compile(r"\s*(?:(\d+)|(.))")
_OPS = {"×": "*", "x": "*", "X": "*", "÷": "/", "−": "-"}
MAX_LEN = 200


class ExprError(ValueError):
    """The text is not a well-formed expression, or divides by zero."""


def _tokens(text: str) -> list[str]:
    out = []
    for number, other in _TOKEN.findall(text.strip()):
        if number:
            out.append(number)
        elif other.strip():
            out.append(_OPS.get(other, other))
    return out


class _Parser:
    def __init__(self, tokens: list[str]):
        self.tokens, self.pos, self.numbers = tokens, 0, []

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise ExprError("unexpected end of expression")
        self.pos += 1
        return token

    def expr(self) -> Fraction:  # expr := term (('+'|'-') term)*
        value = self.term()
        while self.peek() in ("+", "-"):
            op, rhs = self.take(), self.term()
            value = value + rhs if op == "+" else value - rhs
        return value

    def term(self) -> Fraction:  # term := atom (('*'|'/') atom)*
        value = self.atom()
        while self.peek() in ("*", "/"):
            op, rhs = self.take(), self.atom()
            if op == "/" and rhs == 0:
                raise ExprError("division by zero")
            value = value * rhs if op == "*" else value / rhs
        return value

    def atom(self) -> Fraction:  # atom := number | '(' expr ')'
        token = self.take()
        if token.isdigit():
            self.numbers.append(int(token))
            return Fraction(int(token))
        if token == "(":
            value = self.expr()
            if self.take() != ")":
                raise ExprError("missing ')'")
            return value
        raise ExprError(f"unexpected {token!r}")


def evaluate(text: str) -> tuple[Fraction, list[int]]:
    """Value of `text` and the number literals it uses, in order. Raises ExprError if malformed."""
    if len(text) > MAX_LEN:
        raise ExprError("expression too long")
    parser = _Parser(_tokens(text))
    if not parser.tokens:
        raise ExprError("empty expression")
    value = parser.expr()
    if parser.peek() is not None:
        raise ExprError(f"unexpected {parser.peek()!r}")
    return value, parser.numbers
