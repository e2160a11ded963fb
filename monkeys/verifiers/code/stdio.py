"""`stdio`: run a program on each test input and compare stdout with the expected output.

Comparison follows DeepMind's CodeContests checker: whitespace-split tokens, case-insensitive, numbers equal
within 1e-5 (absolute or relative). Tests come from the problem's `tests` field (a JSON list of
{"input", "output"}); the time limit per test is the problem's `time_limit` (seconds), else `timeout`, else
2 s. Grading stops at the first failing test unless `all_tests`.
"""

from __future__ import annotations

import json
import math
import re

from monkeys.records import Problem
from monkeys.verifiers.base import VERIFIERS
from monkeys.verifiers.code.base import CodeVerifier, Judged, failure_reason, test_record
from monkeys.verifiers.code.extract import extract_python
from monkeys.verifiers.sandbox import Job, Limits, RunResult

DEFAULT_TIME_LIMIT = 2.0
TOLERANCE = 1e-5
NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def tokens_match(got: str, want: str) -> bool:
    if got.lower() == want.lower():
        return True
    if NUMBER.fullmatch(got) and NUMBER.fullmatch(want):
        a, b = float(got), float(want)
        return math.isclose(a, b, rel_tol=TOLERANCE, abs_tol=TOLERANCE)
    return False


def outputs_match(got: str, want: str) -> bool:
    """True when `got` equals `want` token by token under the CodeContests rules."""
    a, b = got.split(), want.split()
    return len(a) == len(b) and all(tokens_match(x, y) for x, y in zip(a, b, strict=False))


def load_tests(problem: Problem) -> list[dict[str, str]]:
    raw = problem.fields.get("tests")
    if not raw:
        return []
    tests = json.loads(str(raw))
    return [{"input": str(t["input"]), "output": str(t["output"])} for t in tests]


def run_passed(r: RunResult, want: str) -> bool:
    return (
        not (r.crashed or r.timed_out or r.output_exceeded)
        and r.exit_code == 0
        and outputs_match(r.stdout, want)
    )


@VERIFIERS.register("stdio")
class StdioVerifier(CodeVerifier):
    name = "stdio"
    version = "1"

    def extract(self, problem: Problem, completion: str) -> str | None:
        return extract_python(completion)

    def time_limit(self, problem: Problem) -> float:
        """The problem's own limit; `timeout` only for problems that state none (the verify runner always
        passes a timeout, so it cannot override a stated limit)."""
        given = problem.fields.get("time_limit")
        if given:
            return float(given)
        return self.timeout or DEFAULT_TIME_LIMIT

    def _job(self, problem: Problem, program: str) -> Job | str:
        tests = load_tests(problem)
        if not tests:
            return "the problem has no stdin/stdout tests (field tests)"
        seconds = self.time_limit(problem)
        return Job(
            program,
            Limits(wall=seconds, cpu=seconds),
            inputs=tuple(t["input"] for t in tests),
            filename="solution.py",  # as `python3 solution.py` runs it (tracebacks name it)
        )

    def _keep_going(self, problem: Problem, job: Job):  # noqa: ANN202
        if self.all_tests:
            return None
        wants = [t["output"] for t in load_tests(problem)]
        return lambda r: run_passed(r, wants[r.index])

    def _judge(self, problem: Problem, job: Job, runs: list[RunResult]) -> Judged:
        wants = [t["output"] for t in load_tests(problem)]
        records, first_bad = [], None
        for r in runs:
            ok = r.index < len(wants) and run_passed(r, wants[r.index])
            records.append(test_record(r, ok))
            if not ok and first_bad is None:
                first_bad = r
        seconds = sum(r.wall for r in runs)
        borderline = any(r.timed_out or r.wall >= 0.5 * job.limits.wall for r in runs)
        if first_bad is None and len(runs) == len(wants):
            return Judged("pass", f"all {len(wants)} tests passed", records, seconds, borderline)
        if first_bad is None:
            return Judged(
                "error", f"only {len(runs)} of {len(wants)} tests ran", records, seconds, borderline
            )
        n_bad = sum(not rec["passed"] for rec in records)
        if first_bad.timed_out:
            verdict, why = "timeout", failure_reason(first_bad)
        elif first_bad.exit_code == 0 and not (first_bad.crashed or first_bad.output_exceeded):
            verdict, why = "fail", "wrong answer"
        else:
            verdict, why = "fail", failure_reason(first_bad)
        scope = f" ({n_bad} of {len(runs)} run tests failed)" if self.all_tests else ""
        return Judged(verdict, f"{why} on test {first_bad.index}{scope}", records, seconds, borderline)
