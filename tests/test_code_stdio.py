"""The stdio verifier: CodeContests comparison rules, per-test records, time limits, stop-at-first-failure."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from monkeys.errors import MonkeysError
from monkeys.tasks.base import Problem
from monkeys.verifiers.code.stdio import StdioVerifier, outputs_match, tokens_match

pytestmark = pytest.mark.usefixtures("sandbox_tools")

FIXTURES = Path(__file__).parent / "fixtures"


def test_tokens_compare_case_insensitively_and_numbers_within_1e_5() -> None:
    assert tokens_match("YES", "yes")
    assert tokens_match("1.000001", "1.0")
    assert tokens_match("1.6666666667", "1.66666")  # within 1e-5 absolute
    assert not tokens_match("1.0001", "1.0")
    assert tokens_match("100000.5", "100001.0")  # within 1e-5 relative
    assert not tokens_match("3", "4")
    assert not tokens_match("abc", "abd")
    assert tokens_match("1e-7", "0")
    assert not tokens_match("nan", "0")


def test_outputs_compare_whitespace_split() -> None:
    assert outputs_match("1 2\n3\n", "1\n2 3")
    assert outputs_match("  YES  \n\n", "yes")
    assert not outputs_match("1 2 3", "1 2")
    assert not outputs_match("", "0")
    assert outputs_match("", "\n")


def problem(tests: list[tuple[str, str]], time_limit: float | None = 1.0) -> Problem:
    cases = json.dumps([{"input": i, "output": o} for i, o in tests])
    return Problem("p", "", "", {"tests": cases, "time_limit": time_limit})


SUM = problem([("1 2\n", "3\n"), ("5 5\n", "10\n"), ("0 0\n", "0\n")])


@pytest.fixture(scope="module")
def verifier() -> Iterator[StdioVerifier]:
    v = StdioVerifier(sandbox="bwrap", workers=2)
    yield v
    v.close()


def fence(code: str) -> str:
    return f"Here you go:\n```python\n{code}```\n"


@pytest.mark.e2e
def test_right_program_passes_every_test(verifier: StdioVerifier) -> None:
    v = verifier.check(SUM, fence("a, b = map(int, input().split())\nprint(a + b)\n"))
    assert v.verdict == "pass", v.detail
    records = json.loads(v.detail.split("\n", 1)[1])
    assert [r["passed"] for r in records] == [True, True, True]
    assert records[1]["stdout"] == "10\n" and records[1]["exit_code"] == 0 and not records[1]["timed_out"]


@pytest.mark.e2e
def test_wrong_answer_stops_at_first_failing_test(verifier: StdioVerifier) -> None:
    v = verifier.check(SUM, fence("a, b = map(int, input().split())\nprint(a + b if a else 7)\n"))
    assert v.verdict == "fail"
    assert v.detail.startswith("wrong answer on test 2")
    records = json.loads(v.detail.split("\n", 1)[1])
    assert [r["passed"] for r in records] == [True, True, False]
    first = verifier.check(SUM, fence("print(7)\n"))
    assert len(json.loads(first.detail.split("\n", 1)[1])) == 1  # stopped after test 0


@pytest.mark.e2e
def test_all_tests_option_runs_past_failures() -> None:
    v = StdioVerifier(sandbox="bwrap", all_tests=True, workers=1)
    try:
        verdict = v.check(SUM, fence("print(3)\n"))
    finally:
        v.close()
    records = json.loads(verdict.detail.split("\n", 1)[1])
    assert verdict.verdict == "fail"
    assert [r["passed"] for r in records] == [True, False, False]
    assert "(2 of 3 run tests failed)" in verdict.detail


@pytest.mark.e2e
def test_problem_time_limit_gives_timeout_and_runtime_errors_fail(verifier: StdioVerifier) -> None:
    slow = verifier.check(problem([("1\n", "1\n")], time_limit=0.5), fence("while True:\n    pass\n"))
    assert slow.verdict == "timeout"
    record = json.loads(slow.detail.split("\n", 1)[1])[0]
    assert record["timed_out"] and record["seconds"] < 3
    crash = verifier.check(SUM, fence("raise ValueError('boom')\n"))
    assert crash.verdict == "fail"
    assert "exit code 1" in crash.detail and "ValueError: boom" in crash.detail


@pytest.mark.e2e
def test_no_code_is_a_fail_with_that_reason_and_dedup_shares_one_run(verifier: StdioVerifier) -> None:
    good = fence("a, b = map(int, input().split())\nprint(a + b)\n")
    verdicts = verifier.check_batch([(SUM, "I cannot solve this."), (SUM, good), (SUM, "Again:\n" + good)])
    assert verdicts[0].verdict == "fail" and verdicts[0].detail == "no code found in the completion"
    assert verdicts[1].verdict == verdicts[2].verdict == "pass"
    assert verdicts[1] is verdicts[2]  # one run, fanned out


@pytest.mark.e2e
def test_repeat_borderline_reruns_slow_passes_and_reports_stability() -> None:
    v = StdioVerifier(sandbox="bwrap", repeat_borderline=2, workers=1)
    try:
        verdict = v.check(
            problem([("\n", "ok\n")], time_limit=1.0), fence("import time\ntime.sleep(0.6)\nprint('ok')\n")
        )
        quick = v.check(problem([("\n", "ok\n")], time_limit=1.0), fence("print('ok')\n"))
    finally:
        v.close()
    assert verdict.verdict == "pass"
    assert verdict.detail.startswith("stable over 3 runs (pass×3)")
    assert quick.detail.startswith("all 1 tests passed")


def test_unsafe_backend_needs_the_explicit_flag() -> None:
    with pytest.raises(MonkeysError, match="--unsafe-no-sandbox"):
        StdioVerifier(sandbox="none")
    with pytest.raises(MonkeysError, match="unknown sandbox"):
        StdioVerifier(sandbox="chroot")


@pytest.mark.e2e
def test_unsafe_none_backend_still_grades() -> None:
    with pytest.warns(UserWarning, match="unconfined"):
        v = StdioVerifier(sandbox="none", unsafe_no_sandbox=True, workers=1)
        try:
            assert v.check(SUM, fence("a, b = map(int, input().split())\nprint(a + b)\n")).verdict == "pass"
            assert v.check(SUM, fence("print(0)\n")).verdict == "fail"
        finally:
            v.close()


def test_time_limit_is_the_problems_own_and_timeout_fills_in_when_missing() -> None:
    v = StdioVerifier(sandbox="bwrap", timeout=10.0)
    assert v.time_limit(problem([("", "")], time_limit=2.5)) == 2.5
    assert v.time_limit(problem([("", "")], time_limit=None)) == 10.0
    assert StdioVerifier(sandbox="bwrap").time_limit(problem([("", "")], time_limit=None)) == 2.0


def test_repeat_borderline_reports_flaky_verdicts_by_majority() -> None:
    """A test double for the sandbox runs: timeout, pass, timeout -> timeout, reported as flaky."""
    from monkeys.verifiers.code.base import Judged

    class Scripted(StdioVerifier):
        outcomes = ["timeout", "pass", "timeout"]

        def _run(self, problem, job):  # noqa: ANN001, ANN202
            verdict = self.outcomes.pop(0)
            return Judged(verdict, f"run said {verdict}", [], 1.0, borderline=True)

    v = Scripted(sandbox="bwrap", repeat_borderline=2)
    verdict = v.grade(SUM, "print(1)\n")
    assert verdict.verdict == "timeout"
    assert verdict.detail.startswith("flaky over 3 runs (pass×1, timeout×2); run said timeout")
    tie = Scripted(sandbox="bwrap", repeat_borderline=1)
    tie.outcomes = ["pass", "timeout"]
    assert tie.grade(SUM, "print(1)\n").verdict == "timeout"  # a tie never passes
