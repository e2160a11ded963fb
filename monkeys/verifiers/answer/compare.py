"""Exact equivalence of two parsed answers (SymPy objects from math-verify's LaTeX parser).

The rule, in order (the README's verify section states it for users):
- Decimals are read as the exact rationals they spell, so every number is exact: `0.142857` is not `1/7`.
- Two exact values are equal only when SymPy proves their difference zero (`simplify`), or, for constants
  SymPy cannot simplify, when they agree to a relative 1e-40 at 60 digits. No absolute epsilon anywhere:
  `1/2^99` is not `1/2^98`.
- A decimal *reference* (an approximation by nature) accepts an irrational answer within a relative 1e-9
  (`1.41421356237` accepts `\\sqrt{2}`); a decimal *answer* to an exact reference must be exact.
- Structure is kept: an equation is not its right-hand side unless it is an assignment (`x = 3` against
  `3`), tuples are ordered, sets are not, intervals keep their brackets, matrices compare entry by entry.
- Anything SymPy cannot evaluate (`12:00` parses as 12/0) equals nothing but itself: a wrong answer fails.
"""

from __future__ import annotations

import logging
import re
from typing import Any

EXACT_REL = 1e-40  # constants SymPy cannot simplify: equal when they agree this closely at 60 digits
DECIMAL_REFERENCE_REL = 1e-9  # a decimal reference against an irrational answer
DIGITS = 60
_DECIMAL = re.compile(r"\.[0-9]")


def parse(answer: str) -> Any | None:
    """The SymPy object math-verify's parser makes of a LaTeX answer (floats made exact), or None."""
    from math_verify import parse as mv_parse

    logging.getLogger("math_verify").setLevel(logging.ERROR)
    logging.getLogger("latex2sympy2_extended").setLevel(logging.ERROR)
    # parsing_timeout=None: no SIGALRM (worker threads cannot use it); the worker pool's hard kill is the limit.
    for x in mv_parse(f"\\boxed{{{answer}}}", parsing_timeout=None):
        if not isinstance(x, str):
            return exact_floats(x)
    return None


def exact_floats(x: Any) -> Any:
    """`x` with every Float replaced by the rational its decimal digits spell."""
    from sympy import Float, MatrixBase, Rational

    if isinstance(x, MatrixBase):
        return x.applyfunc(exact_floats)
    try:
        floats = x.atoms(Float)
    except Exception:
        return x
    if not floats:
        return x
    return x.xreplace({f: Rational(str(f)) for f in floats})


def has_decimal(answer: str) -> bool:
    """Whether a LaTeX answer spells a decimal number (`0.5`, `.25`), which makes it an approximation."""
    return _DECIMAL.search(answer) is not None


def equivalent(gold: Any, pred: Any, gold_is_decimal: bool = False) -> bool:
    """Whether `pred` is the same answer as `gold` under the module's rule (not symmetric: see above)."""
    from sympy import Basic, MatrixBase
    from sympy.sets.sets import Interval, Set

    if _is_relation(gold) or _is_relation(pred):
        if _is_relation(gold) and _is_relation(pred):
            return _relations_equal(gold, pred)
        rel, other = (gold, pred) if _is_relation(gold) else (pred, gold)
        value = _assigned_value(rel)
        if value is None:
            return False  # `x+z=1` is an equation, not the constant 1
        return equivalent(value, other, gold_is_decimal) if rel is gold else equivalent(gold, value)
    if isinstance(gold, MatrixBase) or isinstance(pred, MatrixBase):
        if not (isinstance(gold, MatrixBase) and isinstance(pred, MatrixBase)) or gold.shape != pred.shape:
            return False
        return all(_scalar_equal(g, p, gold_is_decimal) for g, p in zip(gold, pred, strict=True))
    g_seq, p_seq = _sequence(gold), _sequence(pred)
    if g_seq is not None or p_seq is not None:
        if g_seq is None or p_seq is None:
            return False
        return _sequences_equal(g_seq, p_seq, gold_is_decimal)
    if isinstance(gold, Set) or isinstance(pred, Set):
        if not (isinstance(gold, Set) and isinstance(pred, Set)):
            return False
        if isinstance(gold, Interval) and isinstance(pred, Interval):
            return (
                gold.left_open == pred.left_open
                and gold.right_open == pred.right_open
                and _scalar_equal(gold.start, pred.start, gold_is_decimal)
                and _scalar_equal(gold.end, pred.end, gold_is_decimal)
            )
        if gold == pred:
            return True
        try:
            return bool(gold.symmetric_difference(pred).is_empty)
        except Exception:
            return False
    if isinstance(gold, Basic) and isinstance(pred, Basic):
        return _scalar_equal(gold, pred, gold_is_decimal)
    return False


# -- a reference against plain numbers ----------------------------------------------------------------
NEVER = "never"
MARGIN = 2.0  # `differs` decides only when the gap is this many times `_clearly_different`'s threshold


def against_number(gold: Any) -> tuple[str, complex | None] | None:
    """What `equivalent(gold, number)` can be for a plain number (a SymPy number with no symbols, sets,
    relations, lists or matrices in it), worked out once per reference: (NEVER, None) when it is False for
    every number (`gold` is a set, tuple, interval, matrix, undefined value or an equation that is not an
    assignment); ("value", v) when `gold` is a scalar worth v at `_clearly_different`'s point, so that a
    number clearly different from v is not equivalent (`differs`); None when neither can be said (SymPy
    must decide). Mirrors `equivalent`'s branches in order."""
    from sympy import Basic, MatrixBase, N, nan, zoo
    from sympy.sets.sets import Set

    try:
        while _is_relation(gold):  # `x = 3` compares its value; any other relation equals no number
            gold = _assigned_value(gold)
            if gold is None:
                return NEVER, None
        if isinstance(gold, MatrixBase) or _sequence(gold) is not None or isinstance(gold, Set):
            return NEVER, None
        if not isinstance(gold, Basic) or gold.has(nan, zoo):
            return NEVER, None
        if _symbolic_word(gold):
            return None
        g = N(gold.subs(_point(gold.free_symbols)), 30)
        if not g.is_number or g.free_symbols or not g.is_finite:
            return None
        value = complex(g)
    except Exception:
        return None
    if not (abs(value) < float("inf")):
        return None
    return "value", value


def differs(target: tuple[str, complex | None], number: float) -> bool | None:
    """True when a plain number worth `number` (an accurate float) is surely not equivalent to the reference
    `against_number` described as `target`; None when SymPy must decide."""
    kind, value = target
    if kind == NEVER:
        return True
    assert value is not None
    scale = max(abs(value), abs(number))
    if abs(value - number) > MARGIN * CLEARLY_DIFFERENT * scale:
        return True
    return None


# -- structure -----------------------------------------------------------------------------------------
def _is_relation(x: Any) -> bool:
    from latex2sympy2_extended.logic import And
    from sympy.core.relational import Relational

    if isinstance(x, Relational):
        return True
    return (
        isinstance(x, And)
        and bool(x._unsorted_args)
        and all(isinstance(a, Relational) for a in x._unsorted_args)
    )


def _relation_chain(x: Any) -> list[Any]:
    from latex2sympy2_extended.logic import And

    return list(x._unsorted_args) if isinstance(x, And) else [x]


def _assigned_value(rel: Any) -> Any | None:
    """The value of an assignment `x = 3` (or `x = 1 + 2 = 3`: the last right-hand side); None otherwise."""
    from sympy import Eq, Symbol

    chain = _relation_chain(rel)
    if not all(isinstance(r, Eq) for r in chain):
        return None
    if not isinstance(chain[0].lhs, Symbol):
        return None
    return chain[-1].rhs


def _relations_equal(gold: Any, pred: Any) -> bool:
    """Same relation: each link has the same type and sides whose differences are proportional (by a positive
    factor for inequalities; a flipped inequality counts, with a negative one)."""
    from sympy import Eq, GreaterThan, LessThan, StrictGreaterThan, StrictLessThan, simplify

    flips = {GreaterThan: LessThan, LessThan: GreaterThan, StrictGreaterThan: StrictLessThan}
    flips[StrictLessThan] = StrictGreaterThan
    gs, ps = _relation_chain(gold), _relation_chain(pred)
    if len(gs) != len(ps):
        return False
    for g, p in zip(gs, ps, strict=True):
        dg, dp = g.lhs - g.rhs, p.lhs - p.rhs
        if type(g) is type(p):
            want = 0 if isinstance(g, Eq) else 1  # Eq: any nonzero factor; inequality: a positive one
        elif flips.get(type(g)) is type(p):
            want = -1
        else:
            return False
        try:
            if dp == 0 or simplify(dp) == 0:
                return False
            ratio = simplify(dg / dp)
        except Exception:
            return False
        if ratio.free_symbols or not ratio.is_number or ratio == 0:
            return False
        if want == 1 and not ratio.is_positive:
            return False
        if want == -1 and not ratio.is_negative:
            return False
        if isinstance(g, Eq) and isinstance(p, Eq) and _assigned_value(g) is not None:
            if _assigned_value(p) is None or g.lhs != p.lhs:  # `x = 3` is not `y = 3`
                return False
            if simplify(ratio - 1) != 0:
                return False
    return True


def _sequence(x: Any) -> tuple[str, list[Any]] | None:
    """("tuple"|"set", elements) for tuples, finite sets and the open interval `(a, b)` (also a point)."""
    from latex2sympy2_extended.sets import FiniteSet as WrittenSet
    from sympy import FiniteSet, Interval, Tuple

    if isinstance(x, Tuple):
        return "tuple", list(x.args)
    if isinstance(x, WrittenSet):
        return "set", list(getattr(x, "_unsorted_args", x.args))
    if isinstance(x, FiniteSet):
        return "set", list(x.args)
    if isinstance(x, Interval) and x.left_open and x.right_open:
        return "point", [x.start, x.end]
    return None


def _sequences_equal(g: tuple[str, list[Any]], p: tuple[str, list[Any]], dec: bool) -> bool:
    (gk, ge), (pk, pe) = g, p
    if len(ge) != len(pe):
        return False
    if "point" in (gk, pk) and {gk, pk} != {"point"}:
        if "set" in (gk, pk) and len(ge) != 2:
            return False
        if {gk, pk} == {"point", "tuple"} or {gk, pk} == {"point", "set"}:
            return all(_scalar_equal(a, b, dec) for a, b in zip(ge, pe, strict=True))
    if gk == "set" and pk == "set":
        left = list(pe)
        for a in ge:
            for j, b in enumerate(left):
                if equivalent(a, b, dec):
                    del left[j]
                    break
            else:
                return False
        return True
    if gk == "point" and pk == "point":
        return all(_scalar_equal(a, b, dec) for a, b in zip(ge, pe, strict=True))
    # a tuple against a tuple or against an answer written as a list: in the order written
    return all(equivalent(a, b, dec) for a, b in zip(ge, pe, strict=True))


# -- scalars -------------------------------------------------------------------------------------------
def _scalar_equal(gold: Any, pred: Any, gold_is_decimal: bool) -> bool:
    from sympy import Basic, nan, simplify, zoo
    from sympy.sets.sets import Set

    if not isinstance(gold, Basic) or not isinstance(pred, Basic):
        return False
    if isinstance(gold, Set) or isinstance(pred, Set) or _is_relation(gold) or _is_relation(pred):
        return equivalent(gold, pred, gold_is_decimal)
    if gold.has(nan, zoo) or pred.has(nan, zoo):
        return False  # nothing equals an undefined value (`12:00` is 12/0)
    try:
        if gold == pred:
            return True
    except Exception:
        return False
    if _symbolic_word(gold) or _symbolic_word(pred):
        return _words_equal(gold, pred)
    if _clearly_different(gold, pred):
        return False  # different at one point, so different: no simplify needed (most wrong answers)
    try:
        diff = simplify(gold - pred)
    except Exception:
        return False
    if diff == 0:
        return True
    if gold.free_symbols or pred.free_symbols or diff.is_Rational:
        return False  # symbolic expressions must simplify to the same; a nonzero rational difference is one
    if pred.is_Rational:
        return False  # a rational answer (a decimal, however long) to an irrational reference is not exact
    decimal_reference = gold_is_decimal and gold.is_Rational
    return _close(gold, pred, DECIMAL_REFERENCE_REL if decimal_reference else EXACT_REL)


_POINT = (0.5772156649015329, 1.3247179572447460, 0.2614972128476428, 2.6854520010653064)
CLEARLY_DIFFERENT = 1e-6  # relative; no evaluation error of a short expression at 30 digits comes close


def _point(symbols: Any) -> dict[Any, Any]:
    """The fixed point at which `_clearly_different` evaluates: each free symbol (sorted by name) set to an
    irrational-ish number."""
    from sympy import Float

    ordered = sorted(symbols, key=str)
    return {x: Float(_POINT[i % len(_POINT)] + i // len(_POINT), 30) for i, x in enumerate(ordered)}


def _clearly_different(gold: Any, pred: Any) -> bool:
    """Whether the two values differ numerically at one point (the free symbols set to fixed irrational-ish
    numbers), by more than a relative 1e-6: then they are different answers. Inconclusive (False) when
    either side does not evaluate to a finite number there."""
    from sympy import Abs, N

    at = _point(gold.free_symbols | pred.free_symbols)
    try:
        g, p = N(gold.subs(at), 30), N(pred.subs(at), 30)
        if not (g.is_number and p.is_number) or g.free_symbols or p.free_symbols:
            return False
        if not (g.is_finite and p.is_finite):
            return False
        scale = max(Abs(g), Abs(p))
        return bool(Abs(g - p) > CLEARLY_DIFFERENT * scale)
    except Exception:
        return False


def _close(gold: Any, pred: Any, rel: float) -> bool:
    """|gold - pred| <= rel * max(|gold|, |pred|), evaluated at DIGITS significant digits."""
    from sympy import Abs, N

    try:
        d = Abs(N(gold - pred, DIGITS))
        scale = max(Abs(N(gold, DIGITS)), Abs(N(pred, DIGITS)))
        if not scale.is_finite or scale == 0:
            return False
        return bool(d <= rel * scale)
    except Exception:
        return False


def _symbolic_word(x: Any) -> bool:
    """A word such as `\\text{Evelyn}` (one symbol, or a product of single letters, which the parser makes of
    plain text)."""
    from sympy import E, Mul, Symbol

    if isinstance(x, Symbol):
        return len(x.name) > 1
    return isinstance(x, Mul) and len(x.args) > 1 and all(isinstance(a, Symbol) or a == E for a in x.args)


def _words_equal(gold: Any, pred: Any) -> bool:
    from math_verify.grader import sympy_compare_symbols

    try:
        return bool(sympy_compare_symbols(gold, pred))
    except Exception:
        return False
