"""Verdicts settled without the worker pool: the math verifier's quick check and its shortcut for plain
numbers against references the exact reader cannot read must give exactly the full path's verdicts, and
the runner must send only the rest to the pool."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import tests.quick_verifier  # noqa: F401  (registers t-quick-hazard)
from monkeys.records import Problem
from monkeys.store import Run
from monkeys.store.ingest import samples_table
from monkeys.verifiers.answer import compare, values
from monkeys.verifiers.answer import math as math_verifier
from monkeys.verifiers.answer.latex import normalize
from monkeys.verifiers.answer.math import MathVerifier
from monkeys.verifiers.stage.cache import VerdictCache
from monkeys.verifiers.stage.runner import verify_run
from tests.answer_cases import CASES, Case


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.suite}:{c.reference}|{c.answer}")
def test_quick_check_gives_checks_verdict_or_none(case: Case) -> None:
    v = MathVerifier()
    p = Problem("q", "", case.reference)
    completion = f"So the answer is $\\boxed{{{case.answer}}}$."
    full = v.check(p, completion)
    quick = v.quick_check(p, v.extract(p, completion))
    if quick is not None:
        assert (quick.verdict, quick.answer, quick.detail) == (full.verdict, full.answer, full.detail)


def test_quick_check_settles_plain_numbers_and_leaves_the_rest_to_sympy() -> None:
    v = MathVerifier()
    half = Problem("q", "", "\\frac{1}{2}")
    assert v.quick_check(half, "0.5").verdict == "pass"  # type: ignore[union-attr]
    assert v.quick_check(half, "\\frac{1}{3}").verdict == "fail"  # type: ignore[union-attr]
    assert v.quick_check(half, None).verdict == "fail"  # type: ignore[union-attr]
    assert v.quick_check(half, "\\frac{x}{2x}") is None
    assert v.quick_check(Problem("q", "", "x^2+1"), "x^2+1").verdict == "pass"  # type: ignore[union-attr]
    assert v.quick_check(Problem("q", "", "x^2+1"), "1+x^2") is None
    assert v.quick_check(Problem("q", "", ""), "1").verdict == "error"  # type: ignore[union-attr]


UNREADABLE = [
    "(1,2)",
    "\\{1,2\\}",
    "\\{5\\}",
    "[0,\\infty)",
    "(-\\infty,-8)\\cup(8,\\infty)",
    "x\\in[-2,7]",
    "x+z=1",
    "x=5",
    "y=\\frac{3}{4}",
    "x<3",
    "x^2+1",
    "\\sin^2x+\\cos^2x",
    "i",
    "6+9i",
    "\\begin{pmatrix}1\\\\2\\end{pmatrix}",
    "\\text{Evelyn}",
    "\\sqrt[3]{2}",
    "2^{1/3}",
    "e",
    "\\infty",
    "\\frac{x+2}{7}",
    "\\frac{12}{0}",
]
NUMBERS = [
    "5",
    "1",
    "0",
    "-2",
    "\\frac{3}{4}",
    "0.75",
    "3\\sqrt{2}",
    "\\frac{\\pi}{4}",
    "1.2599",
    "1.25992104989487",
    "2\\frac{1}{3}",
    "{5}",
    "(5)",
    "2.718281828459045",
    "\\sqrt{2}-1",
]


def _full_path(reference: str, answer: str) -> str:
    """The verdict of the SymPy comparison alone, without the shortcut."""
    gold, pred = compare.parse(reference), compare.parse(answer)
    if gold is None or pred is None:
        return "fail"
    return "pass" if compare.equivalent(gold, pred, compare.has_decimal(reference)) else "fail"


@pytest.mark.parametrize("reference", UNREADABLE)
def test_plain_numbers_against_unreadable_references_get_the_full_paths_verdict(reference: str) -> None:
    ref = normalize(reference)
    assert values.read(ref) is None  # else this reference would not reach the shortcut
    v = MathVerifier()
    p = Problem("q", "", reference)
    for number in NUMBERS:
        answer = normalize(number)
        assert v.judge(p, answer)[0] == _full_path(ref, answer), (reference, number)


def test_the_shortcut_decides_without_parsing_the_answer() -> None:
    v = MathVerifier()
    math_verifier._parse.cache_clear()
    assert v.judge(Problem("q", "", "(1,2)"), "5")[0] == "fail"
    assert v.judge(Problem("r", "", "x^2+1"), "\\frac{3}{4}")[0] == "fail"
    parsed = math_verifier._parse.cache_info().currsize
    assert parsed == 2  # the two references only
    assert v.judge(Problem("s", "", "x=5"), "5")[0] == "pass"  # not clearly different: SymPy decides


def _run(path: Path, samples: list[tuple[str, int, str]]) -> Run:
    problems = pd.DataFrame({"problem_id": ["p1"], "prompt": "", "reference": ["ok"]})
    manifest = {"task": {"name": "toy", "default_verifier": "t-quick-hazard", "options": {}}}
    run = Run.create(path, manifest, problems)
    pids, idxs, texts = zip(*samples, strict=True)
    with run.writer("samples") as table:
        table.append(samples_table(pids, idxs, texts))
    return run


def test_runner_settles_quick_verdicts_in_process_and_pools_the_rest(tmp_path: Path) -> None:
    samples = [("p1", 0, "so hang"), ("p1", 1, "so ok"), ("p1", 2, "so crash"), ("p1", 3, "so oops")]
    cache = VerdictCache(tmp_path / "cache")
    run = _run(tmp_path / "r1", samples)
    rep = verify_run(run, cache=cache, workers=1, timeout=5.0)
    got = run.verdicts("t-quick-hazard").set_index("sample_index")
    assert got["verdict"].to_dict() == {0: "fail", 1: "pass", 2: "error", 3: "fail"}
    assert got.loc[0, "detail"] == "decided quickly"  # the pool would have hung on it: it never got it
    assert got.loc[3, "detail"] == "checked in the pool"  # the quick check raised: the pool checked it
    assert rep.kills == 1 and rep.checks == 4 + 1  # 4 answers and the empty canary
    again = verify_run(_run(tmp_path / "r2", samples), cache=cache, workers=1, timeout=5.0)
    assert again.cache_hits == 1  # only the pooled pass/fail ("oops") is cached; quick verdicts are not


def test_pool_module_loads_neither_the_runner_nor_pandas() -> None:
    """Workers import `stage.pool`; the runner's store and pandas cost seconds per worker on a busy machine."""
    code = (
        "import sys, monkeys.verifiers.stage.pool, monkeys.verifiers.answer.math;"
        "print(sorted(m for m in ('pandas', 'pyarrow', 'monkeys.verifiers.stage.runner') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
