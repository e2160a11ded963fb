"""The codecontests and mbpp tasks on hand-made fixtures in the hub's schema, graded end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monkeys.errors import MonkeysError
from monkeys.tasks.base import TASKS, TaskOptions
from monkeys.tasks.codecontests import CodeContests
from monkeys.tasks.mbpp import MBPP
from monkeys.verifiers.base import VERIFIERS
from monkeys.verifiers.code.python_tests import PythonTestsVerifier
from monkeys.verifiers.code.stdio import StdioVerifier

pytestmark = pytest.mark.usefixtures("sandbox_tools")

FIXTURES = str(Path(__file__).parent / "fixtures")


def test_tasks_and_verifiers_are_registered() -> None:
    assert {"codecontests", "mbpp"} <= set(TASKS.names())
    assert {"python-tests", "stdio"} <= set(VERIFIERS.names())
    assert TASKS.create("codecontests").default_verifier == "stdio"
    assert TASKS.create("mbpp").default_verifier == "python-tests"


def test_codecontests_keeps_imageless_problems_with_all_tests_and_time_limits() -> None:
    problems = CodeContests().load(TaskOptions(data_dir=FIXTURES))
    by_id = {p.problem_id: p for p in problems}
    assert list(by_id) == ["1000_A. Sum of Two", "1001_B. Average", "Yes or No"]  # the <image> one is dropped
    sum_two = by_id["1000_A. Sum of Two"]
    tests = json.loads(str(sum_two.fields["tests"]))
    assert [t["input"] for t in tests] == ["1 2\n", "-5 5\n", "1000000000 1000000000\n", "7 8\n"]
    assert sum_two.fields["time_limit"] == 1.0
    assert by_id["1001_B. Average"].fields["time_limit"] == 2.5
    assert by_id["Yes or No"].fields["time_limit"] is None
    assert sum_two.reference == "a, b = map(int, input().split())\nprint(a + b)\n"  # the python3 one
    assert by_id["Yes or No"].reference == ""  # only a python2 solution exists
    assert "standard input" in sum_two.prompt and sum_two.prompt.startswith("Given two integers")


def test_codecontests_without_local_copy_or_hub_says_what_to_do(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    with pytest.raises(MonkeysError, match="--data-dir"):
        CodeContests().load(TaskOptions(data_dir=str(tmp_path)))


def test_mbpp_loads_the_test_split_with_asserts() -> None:
    problems = MBPP().load(TaskOptions(data_dir=FIXTURES))
    assert [p.problem_id for p in problems] == ["11", "12", "17"]  # task 2 (prompt split) is dropped
    first = problems[0]
    assert json.loads(str(first.fields["test_list"]))[0] == 'assert remove_Occ("hello","l") == "heo"'
    assert 'assert remove_Occ("hello","l") == "heo"' in first.prompt
    assert problems[2].fields["test_setup_code"] == "import math"


@pytest.mark.e2e
def test_codecontests_gold_passes_and_wrong_fails_through_stdio() -> None:
    problems = [p for p in CodeContests().load(TaskOptions(data_dir=FIXTURES)) if p.reference]
    v = StdioVerifier(sandbox="bwrap")
    try:
        gold = v.check_batch([(p, v.gold_completion(p)) for p in problems])
        wrong = v.check_batch([(p, "```python\nprint(0)\n```") for p in problems])
    finally:
        v.close()
    assert [g.verdict for g in gold] == ["pass", "pass"], [g.detail for g in gold]
    assert [w.verdict for w in wrong] == ["fail", "fail"]


@pytest.mark.e2e
def test_mbpp_gold_passes_and_wrong_fails_through_python_tests() -> None:
    problems = MBPP().load(TaskOptions(data_dir=FIXTURES))
    v = PythonTestsVerifier(sandbox="bwrap")
    try:
        gold = v.check_batch([(p, v.gold_completion(p)) for p in problems])
        wrong = v.check_batch(
            [(p, f"```python\n{p.reference.replace('return', 'return 0 and')}\n```") for p in problems]
        )
        empty = v.check(problems[0], "")
    finally:
        v.close()
    assert [g.verdict for g in gold] == ["pass"] * 3, [g.detail for g in gold]
    assert [w.verdict for w in wrong] == ["fail"] * 3
    assert empty.verdict == "fail" and empty.detail == "no code found in the completion"


@pytest.mark.e2e
def test_jsonl_rows_with_stdio_tests_are_graded(tmp_path: Path) -> None:
    rows = [
        {
            "id": "double",
            "prompt": "Read n, print 2n.",
            "tests": [{"input": "2\n", "output": "4\n"}, {"input": "10\n", "output": "20\n"}],
            "time_limit": 1.5,
        }
    ]
    path = tmp_path / "problems.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    task = TASKS.create("jsonl")
    (problem,) = task.load(TaskOptions(data_file=str(path)))
    assert task.default_verifier == "stdio"
    v = StdioVerifier(sandbox="bwrap", workers=1)
    try:
        assert v.time_limit(problem) == 1.5
        assert v.check(problem, "```python\nprint(int(input()) * 2)\n```").verdict == "pass"
        assert v.check(problem, "```python\nprint(int(input()) + 2)\n```").verdict == "fail"
    finally:
        v.close()


@pytest.mark.e2e
def test_python_test_fields_plain_asserts_and_missing_entry_point() -> None:
    from monkeys.tasks.base import Problem

    plain = Problem("a", "", "", {"test": "assert sq(3) == 9\nassert sq(-2) == 4\n"})
    needs_entry = Problem("b", "", "", {"test": "def check(candidate):\n    assert candidate(3) == 9\n"})
    none = Problem("c", "", "", {})
    v = PythonTestsVerifier(sandbox="bwrap", workers=1)
    try:
        right = v.check(plain, "```python\ndef sq(x):\n    return x * x\n```")
        wrong = v.check(plain, "```python\ndef sq(x):\n    return x + x\n```")
        vacuous = v.check(needs_entry, "```python\ndef sq(x):\n    return 0\n```")
        missing = v.check(none, "```python\nx = 1\n```")
    finally:
        v.close()
    assert (right.verdict, wrong.verdict) == ("pass", "fail")
    assert vacuous.verdict == "error" and "entry_point" in vacuous.detail
    assert missing.verdict == "error" and "no python tests" in missing.detail
