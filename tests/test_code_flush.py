"""Code verifiers under the verify stage: verdicts saved on the 2 s clock, and a task's own time limit."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import ClassVar

import pytest

from monkeys.records import Problem
from monkeys.store import Run
from monkeys.verifiers.base import VERIFIERS, StreamsBatch, Verdict
from monkeys.verifiers.code.python_tests import PythonTestsVerifier
from monkeys.verifiers.stage import runner
from tests.test_verify_runner import make_run


class DiesMidBatch(StreamsBatch):
    """Streams three verdicts, then the process dies as a SIGKILL would (no finally, no flush)."""

    name = "t-dies-mid-batch"
    version = "1"
    runs_inline = False

    def extract(self, problem: Problem, completion: str) -> str | None:
        return completion

    def gold_completion(self, problem: Problem) -> str:
        return problem.reference

    def check(self, problem: Problem, completion: str) -> Verdict:
        return Verdict("pass" if completion == problem.reference else "fail", completion, "")

    def check_batch(self, items: Sequence[tuple[Problem, str]]) -> list[Verdict]:
        return [v for _, v in self.iter_batch(items)]

    def iter_batch(self, items: Sequence[tuple[Problem, str]]) -> Iterator[tuple[int, Verdict]]:
        for i, (p, c) in enumerate(items):
            if i == 3 and len(items) > 3:  # the canaries' call (gold and empty) is smaller
                os._exit(9)
            yield i, self.check(p, c)


class TimeoutSpy(DiesMidBatch):
    name = "t-timeout-spy"
    seen: ClassVar[list[float | None]] = []

    def __init__(self, timeout: float | None = None) -> None:
        TimeoutSpy.seen.append(timeout)

    def iter_batch(self, items: Sequence[tuple[Problem, str]]) -> Iterator[tuple[int, Verdict]]:
        for i, (p, c) in enumerate(items):
            yield i, self.check(p, c)


VERIFIERS.add("t-dies-mid-batch", DiesMidBatch)
VERIFIERS.add("t-timeout-spy", TimeoutSpy)


def _verify_then_die(path: str) -> None:
    runner.FLUSH_SECONDS = 0.0  # every verdict is past the clock: the test needs no timing
    runner.verify_run(Run.open(path), "t-dies-mid-batch", cache=None)


def test_a_killed_code_verify_keeps_the_verdicts_it_streamed(tmp_path: Path) -> None:
    samples = [("p1", i, f"try {i}") for i in range(40)]
    run = make_run(tmp_path / "r", {"p1": "try 7"}, samples, verifier="t-dies-mid-batch")
    proc = multiprocessing.get_context("fork").Process(target=_verify_then_die, args=(str(run.path),))
    proc.start()
    proc.join(60)
    assert proc.exitcode == 9
    stored = Run.open(run.path).verdicts("t-dies-mid-batch")
    # the three checks that finished before the kill, plus sample 7 (the gold canary's answer), not 0
    assert sorted(stored["sample_index"]) == [0, 1, 2, 7]


@pytest.mark.parametrize(("given", "seen"), [(None, None), (7.5, 7.5)])
def test_the_verifier_sees_only_a_timeout_the_user_gave(tmp_path: Path, given: float | None, seen) -> None:
    TimeoutSpy.seen.clear()
    run = make_run(tmp_path / "r", {"p1": "a"}, [("p1", 0, "a")], verifier="t-timeout-spy")
    runner.verify_run(run, timeout=given, cache=None)
    assert TimeoutSpy.seen == [seen]


def test_humaneval_keeps_its_3_second_limit_unless_told_otherwise() -> None:
    p = Problem("HumanEval/0", "def f(x):\n", "", {"entry_point": "f", "test": "def check(c):\n    pass\n"})
    assert PythonTestsVerifier()._job(p, "def f(x):\n    return x\n").limits.wall == 3.0
    assert PythonTestsVerifier(timeout=10)._job(p, "def f(x):\n    return x\n").limits.wall == 10.0
