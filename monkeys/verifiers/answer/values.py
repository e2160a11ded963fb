"""A small exact reader of the answers most samples give: numbers, fractions and simple expressions.

`read(answer)` turns a normalised LaTeX answer such as `-\\frac{3}{4}`, `2\\frac{1}{3}`, `0.125`,
`5\\cdot10^{-20}`, `\\frac{1}{2^{99}}`, `3\\sqrt{2}`, `\\frac{\\pi}{4}` or the list `32, 349` into a value
tree, or None when the answer holds anything else (letters, intervals, matrices, ...), which is then left to
SymPy. A tree gives its exact value (a `Fraction`) when it has one, and otherwise an approximate float, which
is only ever used to tell two answers apart when they clearly differ, never to call them equal.

Decimals are read as the exact rationals they spell (`0.142857` is 142857/10^6, not 1/7), so comparing two
exact values here is exact arithmetic.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction

MAX_EXPONENT = 4096  # larger integer powers are left to SymPy
MAX_BITS = 20_000  # an exact value whose numerator or denominator grows past this is left to SymPy
MAX_FACTORIAL = 500

_TOKEN = re.compile(
    r"\s*(?:(?P<num>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)|(?P<cmd>\\[a-zA-Z]+)|(?P<op>[-+*/^(){},!\[\]]))"
)
_CDOT = ("\\cdot", "\\times")


class _Unsupported(Exception):
    """The answer holds something this reader does not handle; SymPy decides."""


@dataclass(frozen=True)
class Value:
    """An answer's value: `exact` when it is rational, `approx` (a float) whenever it can be computed."""

    exact: Fraction | None
    approx: float | None


@dataclass(frozen=True)
class Reading:
    """A read answer: one value, or a bare comma-separated list of them (`-2, 1`)."""

    items: tuple[Value, ...]
    is_list: bool


def read(answer: str) -> Reading | None:
    """The value(s) of a normalised answer, or None when it is not a plain number or simple expression."""
    if not answer or len(answer) > 200:
        return None
    try:
        tokens = _tokens(answer)
        parser = _Parser(tokens)
        items = [parser.expr()]
        while parser.peek() == ",":
            parser.next()
            items.append(parser.expr())
        if parser.peek() is not None:
            return None
    except (_Unsupported, ZeroDivisionError, OverflowError, ValueError):
        return None
    return Reading(tuple(items), len(items) > 1)


def _tokens(s: str) -> list[str]:
    out: list[str] = []
    pos = 0
    while pos < len(s):
        m = _TOKEN.match(s, pos)
        if m is None or m.end() == pos:
            if s[pos:].strip() == "":
                break
            raise _Unsupported
        out.append(m.group(m.lastgroup or "op"))
        pos = m.end()
    return out


def _exact_or_none(f: Fraction) -> Fraction | None:
    if f.numerator.bit_length() > MAX_BITS or f.denominator.bit_length() > MAX_BITS:
        raise _Unsupported
    return f


def _approx(f: Fraction) -> float | None:
    try:
        return float(f)
    except OverflowError:
        return None


class _Parser:
    """Recursive descent over the tokens: sums of products of signed powers of atoms."""

    def __init__(self, tokens: list[str]) -> None:
        self.tokens, self.i = tokens, 0

    def peek(self) -> str | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def next(self) -> str:
        t = self.peek()
        if t is None:
            raise _Unsupported
        self.i += 1
        return t

    def expect(self, t: str) -> None:
        if self.next() != t:
            raise _Unsupported

    def expr(self) -> Value:
        v = self.term()
        while self.peek() in ("+", "-"):
            op = self.next()
            w = self.term()
            v = _add(v, w, -1 if op == "-" else 1)
        return v

    def term(self) -> Value:
        start = self.i
        v = self.signed()
        whole_number = self.i - start <= 2 and self.tokens[self.i - 1].isdigit()
        while True:
            t = self.peek()
            if t in _CDOT or t == "*":
                self.next()
                v = _mul(v, self.signed())
            elif t == "/":
                self.next()
                v = _div(v, self.signed())
            elif t in ("\\sqrt", "\\pi"):  # implicit product: 3\sqrt{2}, 2\pi
                v = _mul(v, self.power())
            elif t == "\\frac" and whole_number:
                v = _mixed(v, self.power())  # 2\frac{1}{3}: a mixed number, as MATH writes them
            else:
                return v
            whole_number = False

    def signed(self) -> Value:
        if self.peek() == "-":
            self.next()
            v = self.signed()
            return Value(
                -v.exact if v.exact is not None else None, -v.approx if v.approx is not None else None
            )
        if self.peek() == "+":
            self.next()
        return self.power()

    def power(self) -> Value:
        base = self.atom()
        while self.peek() == "!":
            self.next()
            base = _factorial(base)
        if self.peek() == "^":
            self.next()
            exponent = self.group() if self.peek() == "{" else self._digit()
            base = _pow(base, exponent)
        return base

    def _digit(self) -> Value:
        t = self.next()
        if not t.isdigit():
            raise _Unsupported
        # `2^10` in LaTeX is 2^1 0; a bare exponent is one digit
        if len(t) > 1:
            raise _Unsupported
        return _number(t)

    def group(self) -> Value:
        self.expect("{")
        v = self.expr()
        self.expect("}")
        return v

    def atom(self) -> Value:
        t = self.next()
        if t[:1].isdigit() or t[:1] == ".":
            return _number(t)
        if t == "(":
            v = self.expr()
            self.expect(")")
            return v
        if t == "{":
            v = self.expr()
            self.expect("}")
            return v
        if t == "\\frac":
            num = self.group()
            return _div(num, self.group())
        if t == "\\sqrt":
            if self.peek() == "[":
                raise _Unsupported
            return _sqrt(self.group())
        if t == "\\pi":
            return Value(None, math.pi)
        raise _Unsupported


def _number(t: str) -> Value:
    f = Fraction(t if not t.endswith(".") else t[:-1])
    return Value(f, _approx(f))


def _add(a: Value, b: Value, sign: int) -> Value:
    exact = _exact_or_none(a.exact + sign * b.exact) if a.exact is not None and b.exact is not None else None
    approx = a.approx + sign * b.approx if a.approx is not None and b.approx is not None else None
    return Value(exact, approx if exact is None else _approx(exact))


def _mul(a: Value, b: Value) -> Value:
    exact = _exact_or_none(a.exact * b.exact) if a.exact is not None and b.exact is not None else None
    approx = a.approx * b.approx if a.approx is not None and b.approx is not None else None
    return Value(exact, approx if exact is None else _approx(exact))


def _div(a: Value, b: Value) -> Value:
    if b.exact == 0 or b.approx == 0:
        raise ZeroDivisionError
    exact = _exact_or_none(a.exact / b.exact) if a.exact is not None and b.exact is not None else None
    approx = a.approx / b.approx if a.approx is not None and b.approx is not None else None
    return Value(exact, approx if exact is None else _approx(exact))


def _mixed(whole: Value, part: Value) -> Value:
    if part.exact is None or not 0 < part.exact < 1:
        raise _Unsupported
    assert whole.exact is not None
    sign = -1 if whole.exact < 0 else 1
    return _add(whole, part, sign)


def _pow(base: Value, exponent: Value) -> Value:
    e = exponent.exact
    if e is None or e.denominator != 1 or abs(e) > MAX_EXPONENT or base.exact is None:
        raise _Unsupported  # irrational powers and roots via exponents: SymPy
    if base.exact == 0 and e < 0:
        raise ZeroDivisionError
    if abs(base.exact.numerator).bit_length() * abs(e) > MAX_BITS:
        raise _Unsupported
    if base.exact.denominator.bit_length() * abs(e) > MAX_BITS:
        raise _Unsupported
    exact = base.exact ** int(e)
    return Value(exact, _approx(exact))


def _sqrt(v: Value) -> Value:
    if v.exact is not None and v.exact >= 0:
        n, d = v.exact.numerator, v.exact.denominator
        rn, rd = math.isqrt(n), math.isqrt(d)
        if rn * rn == n and rd * rd == d:
            f = Fraction(rn, rd)
            return Value(f, _approx(f))
    if v.approx is None or v.approx < 0:
        raise _Unsupported  # imaginary or too large: SymPy
    return Value(None, math.sqrt(v.approx))


def _factorial(v: Value) -> Value:
    if v.exact is None or v.exact.denominator != 1 or not 0 <= v.exact <= MAX_FACTORIAL:
        raise _Unsupported
    f = Fraction(math.factorial(int(v.exact)))
    return Value(f, _approx(f))


CLEARLY_DIFFERENT = 1e-6  # relative: floats this far apart are different numbers, whatever their rounding


def decide(gold: Reading, pred: Reading) -> bool | None:
    """True/False when the two readings settle the comparison, None when SymPy must decide.

    Exact against exact is exact arithmetic. Otherwise two values whose floats differ by more than a relative
    1e-6 are different (no rounding of simple expressions moves them that far); anything closer goes to
    SymPy, which compares exactly."""
    if gold.is_list != pred.is_list or len(gold.items) != len(pred.items):
        return False if all(v.approx is not None for v in gold.items + pred.items) else None
    if not gold.is_list:
        return _decide_one(gold.items[0], pred.items[0])
    if all(v.exact is not None for v in gold.items + pred.items):
        return sorted(v.exact for v in gold.items) == sorted(v.exact for v in pred.items)  # type: ignore[type-var]
    return None


def _decide_one(g: Value, p: Value) -> bool | None:
    if g.exact is not None and p.exact is not None:
        return g.exact == p.exact
    if g.approx is None or p.approx is None:
        return None
    scale = max(abs(g.approx), abs(p.approx))
    if abs(g.approx - p.approx) > CLEARLY_DIFFERENT * scale:
        return False
    return None
