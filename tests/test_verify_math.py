"""The math verifier: final-answer extraction (boxed, fbox, Minerva), normalisation and equivalence."""

from __future__ import annotations

import pytest

from monkeys.tasks.base import Problem
from monkeys.verifiers.answer.grouping import group_answers
from monkeys.verifiers.answer.latex import final_answer, last_boxed, normalize
from monkeys.verifiers.answer.math import MathVerifier, extract_answer

EXTRACTIONS = [
    ("The answer is $\\boxed{5}$.", "5"),
    ("So $x = \\boxed{\\frac{1}{2}}$.", "\\frac{1}{2}"),
    ("Nested: $\\boxed{\\frac{\\sqrt{3}}{2}}$", "\\frac{\\sqrt{3}}{2}"),
    ("First $\\boxed{3}$, then corrected to $\\boxed{4}$.", "4"),
    ("Using fbox: \\fbox{12}", "12"),
    ("\\boxed 7 is it", "7"),
    ("Braces \\boxed{\\{1,2\\}} escaped", "\\{1,2\\}"),
    ("unbalanced \\boxed{3", None),
    ("Final Answer: The final answer is $\\frac{3}{4}$. I hope it is correct.", "\\frac{3}{4}"),
    ("Final Answer: The final answer is 10. I hope it is correct.", "10"),
    ("Final Answer: The final answer is $(1,2]$. I hope it is correct.", "(1,2]"),
    ("Final Answer: The final answer is $3.5$. I hope it is correct.", "3.5"),
    ("We get \\boxed{2}.\nFinal Answer: The final answer is $2$. I hope it is correct.", "2"),
    ("The final answer is $\\boxed{9}$.", "9"),
    (
        "x=1.\nFinal Answer: The final answer is $1$. I hope it is correct.\n\nProblem:\nNext?\n\nSolution:\n"
        "Final Answer: The final answer is $8$. I hope it is correct.",
        "1",
    ),
    ("The final answer is 6", "6"),
    ("no answer at all", None),
    ("", None),
]


@pytest.mark.parametrize(("completion", "expected"), EXTRACTIONS)
def test_final_answer_table(completion: str, expected: str | None) -> None:
    assert final_answer(completion) == expected


def test_last_boxed_keeps_nested_braces() -> None:
    assert last_boxed("a \\boxed{x^{2}} b \\boxed{\\dfrac{1}{\\sqrt{2}}} c") == "\\dfrac{1}{\\sqrt{2}}"


NORMALISED = [
    ("\\dfrac{1}{2}", "\\frac{1}{2}"),
    ("\\tfrac12", "\\frac{1}{2}"),
    ("\\frac12", "\\frac{1}{2}"),
    ("$\\frac{1}{2}$.", "\\frac{1}{2}"),
    ("\\left( 1, 2 \\right]", "(1,2]"),
    ("90^\\circ", "90"),
    ("10\\%", "10"),
    ("5\\text{ cm}", "5"),
    ("\\text{(C)}", "(C)"),
    ("x = 3", "x=3"),  # a variable is never dropped: an equation stays an equation
    ("1,000", "1000"),
    ("1,2", "1,2"),
    (".5", "0.5"),
    ("2\\pi r", "2\\pi r"),
    ("\\$18.90", "18.90"),
    ("−4", "-4"),
    ("\\sqrt2", "\\sqrt{2}"),
]


@pytest.mark.parametrize(("raw", "expected"), NORMALISED)
def test_normalize_table(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


EQUIVALENCE = [
    ("\\frac{1}{2}", "0.5", "pass"),
    ("\\frac{1}{2}", "\\dfrac{1}{2}", "pass"),
    ("\\frac{1}{2}", "\\frac12", "pass"),
    ("-\\frac{3}{4}", "-0.75", "pass"),
    ("-\\frac{3}{4}", "\\frac{3}{4}", "fail"),
    ("(1,2]", "(1, 2]", "pass"),
    ("[1,2)", "(1,2]", "fail"),
    ("(-\\infty, 3)", "(-\\infty,3)", "pass"),
    ("x^2+2x+1", "(x+1)^2", "pass"),
    ("3\\sqrt{2}", "\\sqrt{18}", "pass"),
    ("\\frac{\\sqrt{3}}{2}", "\\frac{1}{2}", "fail"),
    ("10\\%", "10", "pass"),
    ("90^\\circ", "90", "pass"),
    ("5\\text{ cm}", "5", "pass"),
    ("\\text{(C)}", "C", "pass"),
    ("\\{1,2\\}", "\\{2,1\\}", "pass"),
    ("(3,4)", "(4,3)", "fail"),
    ("1000", "1,000", "pass"),
    ("\\begin{pmatrix}1\\\\2\\end{pmatrix}", "\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", "pass"),
    ("\\begin{pmatrix}1\\\\2\\end{pmatrix}", "5", "fail"),
    ("y=2x+3", "2x+3", "pass"),
    ("4", "5", "fail"),
    ("\\text{Evelyn}", "Evelyn", "pass"),
    ("2\\pi", "2 \\pi", "pass"),
    ("\\frac{7}{3}", "2\\frac{1}{3}", "pass"),  # math-verify reads a mixed number, as MATH writes them
    ("\\frac{2}{3}", "2\\frac{1}{3}", "fail"),
]


@pytest.mark.parametrize(("reference", "answer", "verdict"), EQUIVALENCE)
def test_equivalence_table(reference: str, answer: str, verdict: str) -> None:
    completion = f"We compute carefully, so the result is $\\boxed{{{answer}}}$."
    v = MathVerifier().check(Problem("1", "", reference), completion)
    assert v.verdict == verdict, v.detail


def test_minerva_answer_with_text_around_it_is_judged() -> None:
    completion = "So the area is $12\\pi$.\nFinal Answer: The final answer is $12\\pi$. I hope it is correct."
    assert MathVerifier().check(Problem("1", "", "12\\pi"), completion).verdict == "pass"


def test_unparseable_answer_fails_rather_than_passes() -> None:
    v = MathVerifier().check(Problem("1", "", "5"), "\\boxed{\\frac{}{}{)(}")
    assert v.verdict == "fail"


def test_overlong_answer_fails_without_sympy() -> None:
    v = MathVerifier().check(Problem("1", "", "5"), "\\boxed{" + "1+" * 5000 + "1}")
    assert (v.verdict, v.detail) == ("fail", "answer too long (10001 characters)")
    assert len(v.answer or "") == 1000


def test_no_answer_and_missing_reference() -> None:
    assert MathVerifier().check(Problem("1", "", "5"), "nothing boxed").detail == "no answer found"
    assert MathVerifier().check(Problem("1", "", ""), "\\boxed{5}").verdict == "error"


def test_gold_completion_passes_and_empty_fails() -> None:
    verifier = MathVerifier()
    p = Problem("1", "", "\\left[ -\\frac{1}{2}, 3 \\right)")
    assert verifier.check(p, verifier.gold_completion(p)).verdict == "pass"
    assert verifier.check(p, "").verdict == "fail"


def test_extract_is_the_dedup_key_for_equal_spellings() -> None:
    a = extract_answer("so \\boxed{\\dfrac12}.")
    b = extract_answer("Final Answer: The final answer is $\\frac{1}{2}$. I hope it is correct.")
    assert a == b == "\\frac{1}{2}"


def test_group_answers_groups_equivalent_answers_and_abstains_on_none() -> None:
    verifier = MathVerifier()
    p = Problem("1", "", "\\frac{1}{2}")
    groups = group_answers(verifier, p, ["\\frac{1}{2}", "0.5", None, "3", "\\dfrac{1}{2}", "3.0", "7"])
    assert groups == [0, 0, -1, 1, 0, 1, 2]


def test_prose_after_final_answer_is_not_an_answer() -> None:
    """MATH test item 4428's solution ends "\\boxed{\\frac{130}{231}}. The final answer is positive, because..."."""
    text = "=\\boxed{\\frac{130}{231}}.\n\\]The final answer is positive, because two of the numbers are negative."
    assert final_answer(text) == "\\frac{130}{231}"
    assert final_answer("Final Answer: The final answer is Evelyn. I hope it is correct.") == "Evelyn"
    assert final_answer("The final answer is: $-\\frac{1}{2}$") == "-\\frac{1}{2}"
