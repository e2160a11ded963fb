"""Tables of (reference, answer) cases for the math verifier, with the right verdict, by kind of answer.

Built in our own words and data after the classes of cases in three public suites, plus issue 10's:
- "math-verify": Hugging Face Math-Verify's tests (tests/test_all.py: numbers and separators, fractions,
  sets and intervals, percent, units, equations and assignments, matrices, text answers);
- "hendrycks": the equivalence tests of Hendrycks et al.'s MATH grader (math_equivalence.py's test file:
  `\\frac12` vs `\\frac{1}{2}`, `\\dfrac`, units `\\text{ inches}`, `\\%`, `^\\circ`, `a = ...`, `\\sqrt3`, spaces);
- "lighteval": lighteval's math metric tests (boxed and Minerva answers, normalisation of LaTeX spellings);
- "monkeys": the false passes and false fails issue 10 names, generalised.
`bench/bench_verify.py` scores these tables for monkeys and for plain math-verify.
"""

from __future__ import annotations

from typing import NamedTuple


class Case(NamedTuple):
    suite: str
    kind: str
    reference: str
    answer: str
    right: str  # "pass" or "fail": the verdict a correct grader gives


def _cases(suite: str, kind: str, right: str, pairs: list[tuple[str, str]]) -> list[Case]:
    return [Case(suite, kind, r, a, right) for r, a in pairs]


CASES: list[Case] = [
    # -- exact values (issue 10, item 1) ----------------------------------------------------------------
    *_cases(
        "monkeys",
        "exact value",
        "fail",
        [
            ("\\frac{1}{2^{98}}", "\\frac{1}{2^{99}}"),
            ("\\frac{1}{3^{40}}", "\\frac{1}{3^{41}}"),
            ("5\\cdot10^{-20}", "10^{-20}"),
            ("3\\times10^{-30}", "3.0000001\\times10^{-30}"),
            ("0.0000002", "0.0000001"),
            ("0.00000013", "0.00000012"),
            ("\\frac{1}{7}", "0.142857"),
            ("\\frac{2}{3}", "0.666667"),
            ("\\pi", "3.1415927"),
            ("\\pi", "3.14159265358979323846264338327950288419716939937510582097494459230781640628"),
            ("\\sqrt{2}", "1.41421356"),
            ("\\frac{\\sqrt{2}}{10^{20}}", "\\frac{\\sqrt{3}}{10^{20}}"),
            ("10!", "3628801"),
            ("2^{64}", "18446744073709551617"),
            ("1+10^{-25}", "1"),
            ("e^{-50}", "0"),
        ],
    ),
    *_cases(
        "monkeys",
        "exact value",
        "pass",
        [
            ("\\frac{1}{2^{99}}", "2^{-99}"),
            ("10!", "3628800"),
            ("\\frac{1}{8}", "0.125"),
            ("5\\cdot10^{-20}", "\\frac{1}{2\\cdot10^{19}}"),
            ("\\sqrt{8}", "2\\sqrt{2}"),
            ("\\frac{\\pi}{4}", "\\frac{1}{4}\\pi"),
            ("1.41421356237", "\\sqrt{2}"),  # a decimal reference accepts the irrational it rounds
        ],
    ),
    # -- equations (item 2, item 4) ------------------------------------------------------------------------
    *_cases(
        "monkeys",
        "equation",
        "fail",
        [("1", "x+z=1"), ("x+z=1", "1"), ("y=2x+3", "x=2x+3"), ("x=3", "y=3"), ("2x+y=4", "4")],
    ),
    *_cases(
        "math-verify",
        "equation",
        "pass",
        [
            ("\\frac{1}{3}", "k = \\frac{1}{3}"),
            ("y=2x+3", "2x+3"),
            ("y=2x+3", "y = 3+2x"),
            ("x+y=1", "2x+2y=2"),
        ],
    ),
    # -- lists (item 3) and answer sets (item 5) -----------------------------------------------------------
    *_cases("monkeys", "list", "fail", [("32349", "32, 349"), ("111", "0,111"), ("0.111", "0,111")]),
    *_cases("math-verify", "list", "pass", [("-2,1", "1,-2"), ("1,2,3", "3, 2, 1"), ("1000", "1,000")]),
    *_cases("math-verify", "list", "fail", [("-2,1", "-2"), ("1,2", "1,2,3")]),
    # -- sets, intervals, tuples, matrices -----------------------------------------------------------------
    *_cases(
        "math-verify",
        "structure",
        "pass",
        [
            ("[0,1)", "[0, 1)"),
            ("(-\\infty,3)", "(-\\infty, 3)"),
            ("\\{1,2\\}", "\\{2,1\\}"),
            ("(3,\\frac{\\pi}{2})", "\\left( 3, \\frac{\\pi}{2} \\right)"),
            ("\\begin{pmatrix}1\\\\2\\end{pmatrix}", "\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}"),
        ],
    ),
    *_cases(
        "math-verify",
        "structure",
        "fail",
        [
            ("[0,9)", "[0,1)"),
            ("(0,9)", "[0,9)"),
            ("1", "-[0,1)"),
            ("(3,4)", "(4,3)"),
            ("\\begin{pmatrix}1\\\\2\\end{pmatrix}", "\\begin{pmatrix}2\\\\1\\end{pmatrix}"),
        ],
    ),
    # -- spellings (Hendrycks' grader, lighteval's normalisation) ------------------------------------------
    *_cases(
        "hendrycks",
        "spelling",
        "pass",
        [
            ("\\frac{1}{2}", "\\frac12"),
            ("\\frac{1}{2}", "\\dfrac{1}{2}"),
            ("\\frac{1}{2}", "0.5"),
            ("\\frac{3}{4}", "\\tfrac34"),
            ("10", "10\\text{ inches}"),
            ("50", "50\\%"),
            ("90", "90^\\circ"),
            ("\\sqrt{3}", "\\sqrt3"),
            ("2", "x = 2"),
            ("\\frac{\\sqrt{3}}{2}", "\\frac{\\sqrt3}{2}"),
            ("0.5", ".5"),
            ("2\\frac{1}{3}", "\\frac{7}{3}"),
        ],
    ),
    *_cases(
        "hendrycks",
        "spelling",
        "fail",
        [("\\frac{1}{2}", "\\frac{1}{3}"), ("\\sqrt{3}", "\\sqrt{2}"), ("2\\frac{1}{3}", "\\frac{2}{3}")],
    ),
    *_cases(
        "lighteval",
        "spelling",
        "pass",
        [
            ("28\\%", "28 percent"),
            ("28", "28 pct"),
            ("15\\mbox{ cm}^2", "15"),
            ("14{,}916", "14916"),
            ("\\text{Evelyn}", "Evelyn"),
            ("\\text{(C)}", "C"),
            ("-\\frac{10}{9}", "-10/9"),
            ("x^2+2x+1", "(x+1)^2"),
            ("2-2p", "-2p+2"),
        ],
    ),
    *_cases("lighteval", "spelling", "fail", [("2-2p", "2-2q"), ("\\text{Evelyn}", "Carla")]),
    # -- undefined values are wrong answers, not verifier errors (item 6) ----------------------------------
    *_cases("monkeys", "undefined", "fail", [("1:00", "12:00"), ("5", "\\frac{1}{0}"), ("3", "0^{-1}")]),
]
