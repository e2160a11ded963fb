"""The math verifier on the case tables of `tests/answer_cases.py` (Math-Verify's, Hendrycks MATH's and
lighteval's classes of cases, and issue 10's), the lenient extraction, answer sets, and a property test that
distinct exact rationals never compare equal."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monkeys.records import Problem
from monkeys.store import Run
from monkeys.store.ingest import import_file
from monkeys.verifiers.answer.latex import final_answer
from monkeys.verifiers.answer.math import MathVerifier
from monkeys.verifiers.stage.runner import verify_run
from tests.answer_cases import CASES, Case

VERIFIER = MathVerifier()


@pytest.mark.parametrize("case", CASES, ids=[f"{c.suite}-{c.kind}-{c.reference}-{c.answer}" for c in CASES])
def test_case_table(case: Case) -> None:
    v = VERIFIER.check(Problem("t", "", case.reference), f"So the answer is $\\boxed{{{case.answer}}}$.")
    assert v.verdict == case.right, v.detail


def test_a_wrong_time_fails_rather_than_errors() -> None:
    v = VERIFIER.check(Problem("t", "", "1:00"), "\\boxed{12:00}")
    assert (v.verdict, v.detail) == ("fail", "not equivalent to 1:00")


@pytest.mark.parametrize(
    ("reference", "completion", "verdict"),
    [
        ("1,-2", "so $x = \\boxed{-2}$ and $\\boxed{1}$.", "pass"),
        ("1,-2", "the roots are \\boxed{-2}, \\boxed{1}", "pass"),
        ("1,-2", "first \\boxed{-2}. Checking again, the root is \\boxed{1}.", "fail"),  # prose between: last
        ("1,-2,3", "\\boxed{-2} and \\boxed{1}", "fail"),
        ("1", "\\boxed{-2} and \\boxed{1}", "pass"),  # a single reference grades the last box, as MATH does
    ],
)
def test_boxes_listed_together_are_one_answer_set(reference: str, completion: str, verdict: str) -> None:
    assert VERIFIER.check(Problem("t", "", reference), completion).verdict == verdict


PROSE = [
    ("Final Answer: The largest $n$ is 34.", "34"),
    ("Answer: $9$", "9"),
    ("**Answer:** $\\frac{3}{4}$", "\\frac{3}{4}"),
    ("So the answer is \\(x = 5\\).", "x = 5"),
    ("Answer: The area is $12\\pi$ square units", "12\\pi"),
    ("I think about it more.\nAnswer: no idea", None),
    ("There is no answer line here, just 42.", None),
]


@pytest.mark.parametrize(("completion", "expected"), PROSE)
def test_lenient_extraction_reads_prose_answers(completion: str, expected: str | None) -> None:
    assert final_answer(completion, lenient=True) == expected
    assert final_answer(completion) is None  # strict extraction ignores them


def test_lenient_extraction_is_an_option_recorded_in_the_version() -> None:
    strict, lenient = MathVerifier(), MathVerifier(extraction="lenient")
    p = Problem("t", "", "34")
    completion = "Final Answer: The largest $n$ is 34."
    assert strict.check(p, completion).verdict == "fail"
    assert lenient.check(p, completion).verdict == "pass"
    assert strict.version != lenient.version and lenient.version.endswith("+lenient")
    assert lenient.check(p, "\\boxed{33}. Answer: 34").answer == "33"  # a box still wins
    with pytest.raises(Exception, match="choose one of: strict, lenient"):
        MathVerifier(extraction="loose")


def _spellings(f: Fraction) -> list[str]:
    p, q = f.numerator, f.denominator
    sign = "-" if p < 0 else ""
    out = [f"{sign}\\frac{{{abs(p)}}}{{{q}}}", f"{p}/{q}" if q != 1 else str(p)]
    d = q
    for prime in (2, 5):
        while d % prime == 0:
            d //= prime
    if d == 1:  # a terminating decimal: its exact spelling
        out.append(_decimal(f) + (".0" if q == 1 else ""))
    return out


def _decimal(f: Fraction) -> str:
    from decimal import Decimal, getcontext

    getcontext().prec = 200
    return format((Decimal(f.numerator) / Decimal(f.denominator)).normalize(), "f")


_rationals = st.fractions(max_denominator=10**12).filter(lambda f: abs(f.numerator) < 10**15)


@settings(max_examples=300, deadline=None)
@given(_rationals, _rationals, st.integers(0, 2), st.integers(0, 2))
def test_distinct_exact_rationals_never_compare_equal(a: Fraction, b: Fraction, i: int, j: int) -> None:
    sa, sb = _spellings(a), _spellings(b)
    ra, rb = sa[i % len(sa)], sb[j % len(sb)]
    verdict = VERIFIER.check(Problem("h", "", ra), f"\\boxed{{{rb}}}").verdict
    assert verdict == ("pass" if a == b else "fail"), (ra, rb)
    assert VERIFIER.same_answer(Problem("h", "", ra), ra, rb) == (a == b)


@settings(max_examples=100, deadline=None)
@given(_rationals, st.integers(-30, -8))
def test_a_tiny_relative_change_of_a_rational_is_a_different_answer(a: Fraction, exponent: int) -> None:
    if a == 0:
        return
    b = a * (1 + Fraction(1, 10) ** -exponent) if exponent > 0 else a * (1 + Fraction(10) ** exponent)
    ra = f"\\frac{{{a.numerator}}}{{{a.denominator}}}"
    rb = f"\\frac{{{b.numerator}}}{{{b.denominator}}}"
    assert VERIFIER.check(Problem("h", "", ra), f"\\boxed{{{rb}}}").verdict == "fail"


def test_lenient_extraction_reaches_the_worker_pool_and_keeps_its_own_verdicts(tmp_path: Path) -> None:
    problems = tmp_path / "p.jsonl"
    problems.write_text(json.dumps({"id": "n", "prompt": "Largest n?", "answer": "34"}) + "\n")
    samples = tmp_path / "s.jsonl"
    texts = ["Final Answer: The largest $n$ is 34.", "Answer: $33$", "\\boxed{34}"]
    samples.write_text("".join(json.dumps({"problem_id": "n", "text": t}) + "\n" for t in texts))
    import_file(tmp_path / "run", samples, task="jsonl", data_file=problems)
    run = Run.open(tmp_path / "run")
    strict = verify_run(run, "math", workers=1)
    lenient = verify_run(run, "math", {"extraction": "lenient"}, workers=1)
    assert (strict.version, lenient.version) == ("3", "3+lenient")
    v = run.table("verdicts").read(["sample_index", "verifier_version", "verdict"]).to_pylist()
    got = {(r["verifier_version"], r["sample_index"]): r["verdict"] for r in v}
    assert got == {
        ("3", 0): "fail",
        ("3", 1): "fail",
        ("3", 2): "pass",
        ("3+lenient", 0): "pass",
        ("3+lenient", 1): "fail",
        ("3+lenient", 2): "pass",
    }
