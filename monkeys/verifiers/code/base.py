"""What the code verifiers share: sandbox choice, a warm pool sized to the host, dedup of identical programs,
and reruns of borderline timings (`repeat_borderline`) reported as flakiness.

Subclasses say how to extract a program, build its sandbox job and judge the runs. `detail` is one line of
reason, then a JSON list of per-test records (test, passed, exit_code, timed_out, seconds, stdout, stderr).
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass

from monkeys.errors import MonkeysError
from monkeys.host import default_workers
from monkeys.records import Problem
from monkeys.verifiers.base import StreamsBatch, Verdict, VerdictValue
from monkeys.verifiers.sandbox import SANDBOXES, Job, RunResult, SandboxPool
from monkeys.verifiers.sandbox.preflight import preflight
from monkeys.verifiers.sandbox.unsafe import warn_unsafe

EXCERPT = 200
BORDERLINE = 0.5  # a run that used at least this share of its wall limit (or ran out of it) is borderline


@dataclass(frozen=True)
class Judged:
    """A verdict on one execution of a job, with its per-test records."""

    verdict: VerdictValue
    reason: str
    tests: list[dict]
    seconds: float
    borderline: bool


def excerpt(text: str) -> str:
    return text if len(text) <= EXCERPT else text[: EXCERPT - 3] + "..."


def test_record(r: RunResult, passed: bool) -> dict:
    return {
        "test": r.index,
        "passed": passed,
        "exit_code": r.exit_code,
        "timed_out": r.timed_out,
        "seconds": r.wall,
        "stdout": excerpt(r.stdout),
        "stderr": excerpt(r.stderr.strip().splitlines()[-1] if r.stderr.strip() else ""),
    }


def failure_reason(r: RunResult) -> str:
    """Why a run that did not pass failed, in a few words."""
    if r.crashed:
        return r.crashed
    if r.timed_out:
        return f"time limit exceeded ({r.wall:.2f}s wall, {r.cpu:.2f}s cpu)"
    if r.output_exceeded:
        return "output limit exceeded"
    if r.signal is not None:
        return f"killed by signal {r.signal} (memory or resource limit)"
    last = r.stderr.strip().splitlines()[-1] if r.stderr.strip() else ""
    if r.exit_code not in (0, None):
        return f"exit code {r.exit_code}" + (f": {excerpt(last)}" if last else "")
    return excerpt(last) if last else "the tests did not report success"


def resolve_backend(sandbox: str | None, unsafe_no_sandbox: bool) -> str:
    name = sandbox or ("none" if unsafe_no_sandbox else "bwrap")
    if name == "none" and not unsafe_no_sandbox:
        raise MonkeysError(
            "--sandbox none runs model code unconfined on this machine; add --unsafe-no-sandbox"
        )
    if name not in SANDBOXES:
        raise MonkeysError(f"unknown sandbox {name!r}; choose one of: {', '.join(SANDBOXES.names())}")
    if name == "none":
        warn_unsafe()
    return name


class CodeVerifier(StreamsBatch):
    """Base of `python-tests` and `stdio`; subclasses implement extract, gold_completion, _job and _judge."""

    name = "code"
    version = "1"
    _pool: SandboxPool | None = None

    def __init__(
        self,
        sandbox: str | None = None,
        unsafe_no_sandbox: bool = False,
        all_tests: bool = False,
        repeat_borderline: int = 0,
        timeout: float | None = None,
        workers: int | None = None,
    ) -> None:
        self.backend = resolve_backend(sandbox, unsafe_no_sandbox)
        if repeat_borderline < 0:
            raise MonkeysError(f"--repeat-borderline must be >= 0, got {repeat_borderline}")
        if timeout is not None and timeout <= 0:
            raise MonkeysError(f"--timeout must be > 0 seconds, got {timeout}")
        self.all_tests = all_tests
        self.repeat_borderline = repeat_borderline
        self.timeout = timeout
        self.workers = workers or default_workers()
        self._pool: SandboxPool | None = None

    # -- subclass hooks
    def extract(self, problem: Problem, completion: str) -> str | None:
        raise NotImplementedError

    def gold_completion(self, problem: Problem) -> str:
        return problem.reference

    def _job(self, problem: Problem, program: str) -> Job | str:
        """The sandbox job, or a string saying why the problem cannot be graded (an `error` verdict)."""
        raise NotImplementedError

    def _judge(self, problem: Problem, job: Job, runs: list[RunResult]) -> Judged:
        raise NotImplementedError

    # -- machinery
    @property
    def pool(self) -> SandboxPool:
        if self._pool is None:
            preflight(self.backend)  # a missing sandbox is one line now, not failed canaries later
            self._pool = SandboxPool(self.backend, self.workers)
        return self._pool

    def check(self, problem: Problem, completion: str) -> Verdict:
        return self.check_batch([(problem, completion)])[0]

    def check_batch(self, items: Sequence[tuple[Problem, str]]) -> list[Verdict]:
        """Grade many samples: identical programs of one problem run once, on `workers` warm sandboxes."""
        out: list[Verdict | None] = [None] * len(items)
        for i, verdict in self.iter_batch(items):
            out[i] = verdict
        return [v for v in out if v is not None]

    def iter_batch(self, items: Sequence[tuple[Problem, str]]) -> Iterator[tuple[int, Verdict]]:
        """(index, verdict) for every item, as each distinct program finishes: the verify stage saves them
        on its 2 s clock, so a killed run keeps what its sandboxes already did."""
        members: dict[tuple[str, str], list[int]] = {}
        _ = self.pool  # the sandbox is checked here, in the caller's thread, before any program runs
        unique: dict[tuple[str, str], Problem] = {}
        for i, (problem, completion) in enumerate(items):
            program = self.extract(problem, completion)
            if program is None:
                yield i, Verdict("fail", None, "no code found in the completion", 0.0)
                continue
            key = (problem.problem_id, program)
            members.setdefault(key, []).append(i)
            unique.setdefault(key, problem)
        with ThreadPoolExecutor(max_workers=self.workers) as ex:
            futures = {ex.submit(self.grade, problem, key[1]): key for key, problem in unique.items()}
            for fut in as_completed(futures):
                verdict = fut.result()
                for i in members[futures[fut]]:
                    yield i, verdict

    def grade(self, problem: Problem, program: str) -> Verdict:
        """Run one extracted program (and rerun it when borderline) and turn the runs into a Verdict."""
        start = time.monotonic()
        job = self._job(problem, program)
        if isinstance(job, str):
            return Verdict("error", program, job, 0.0)
        first = self._run(problem, job)
        outcomes = [first]
        if first.borderline and self.repeat_borderline:
            outcomes += [self._run(problem, job) for _ in range(self.repeat_borderline)]
        verdict, reason = first.verdict, first.reason
        if len(outcomes) > 1:
            counts = Counter(o.verdict for o in outcomes)
            ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0] == "pass"))
            verdict = ranked[0][0]
            tally = ", ".join(f"{v}×{n}" for v, n in sorted(counts.items()))
            flaky = "flaky" if len(counts) > 1 else "stable"
            chosen = next(o for o in outcomes if o.verdict == verdict)
            reason = f"{flaky} over {len(outcomes)} runs ({tally}); {chosen.reason}"
        detail = reason + "\n" + json.dumps(first.tests, ensure_ascii=False)
        return Verdict(verdict, program, detail, round(time.monotonic() - start, 4))

    def _run(self, problem: Problem, job: Job) -> Judged:
        runs = self.pool.run(job, self._keep_going(problem, job))
        return self._judge(problem, job, runs)

    def _keep_going(self, problem: Problem, job: Job):  # noqa: ANN202 (a callback or None)
        return None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def __del__(self) -> None:
        if not sys.is_finalizing():
            self.close()
