"""The solve loop with the fake engine: stops at the m-th pass in index order, stores everything in the run
store, obeys the budget, and resumes after kill -9 with the same stops."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from monkeys.errors import MonkeysError
from monkeys.records import Problem, Verdict
from monkeys.sampler.base import SamplingParams
from monkeys.sampler.loop import SampleConfig
from monkeys.sampler.schedule import seed_base
from monkeys.sampler.solve import SolveConfig, leader_decided, solve
from monkeys.store import Run
from monkeys.tasks import TaskOptions
from monkeys.verifiers.base import VERIFIERS, Verifier
from tests.fakes import FakeEngine


class PooledLastWord(Verifier):
    """Graded in the verify stage's worker processes (not inline): the solve loop's background checker."""

    name = "t-solve-pooled"
    version = "1"
    runs_inline = False

    def extract(self, problem: Problem, completion: str) -> str | None:
        words = completion.split()
        return words[-1] if words else None

    def gold_completion(self, problem: Problem) -> str:
        return problem.reference

    def check(self, problem: Problem, completion: str) -> Verdict:
        words = completion.split()
        last = words[-1] if words else None
        return Verdict("pass" if last == problem.reference else "fail", last, "")


VERIFIERS.add("t-solve-pooled", PooledLastWord)  # at import, so the worker processes find it too

# FakeEngine's sample with effective seed s ends "#### s % 7": a problem with answer r passes at index j
# exactly when (base + j) % 7 == r, so its stops are known in advance.
ANSWERS = {"p0": 3, "p1": 0, "p2": 6, "p3": 1, "p4": 5, "p5": 2}


def write_problems(path: Path, answers: dict[str, int] = ANSWERS) -> str:
    rows = [
        {"id": pid, "prompt": f"question {pid}", "answer": str(a), "verifier": "gsm8k"}
        for pid, a in answers.items()
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


def solve_config(data: str, cap: int = 40, **kw: object) -> SolveConfig:
    sample = SampleConfig(
        task="jsonl",
        task_options=TaskOptions(data_file=data),
        model="fake-model",
        k=cap,
        chunk_size=8,
        sampling=SamplingParams(),
        engine="fake",
    )
    kw.setdefault("in_flight", 1)
    kw.setdefault("distinct", False)  # gsm8k passes all give the one right answer: count every pass
    return SolveConfig(sample=sample, **kw)  # type: ignore[arg-type]


def expected_stop(pid: str, answer: int, m: int, cap: int, seed: int = 0) -> tuple[int, str]:
    base = seed_base(seed, pid)
    passes = 0
    for j in range(cap):
        passes += (base + j) % 7 == answer
        if passes == m:
            return j + 1, "solved"
    return cap, "cap"


@pytest.mark.parametrize("m", [1, 3])
def test_solve_stops_each_problem_at_its_mth_pass_in_index_order(tmp_path: Path, m: int) -> None:
    data = write_problems(tmp_path / "p.jsonl")
    engine = FakeEngine()
    report = solve(str(tmp_path / "r"), solve_config(data, successes=m, growth=0.5), lambda: engine)
    got = {s.problem.problem_id: (s.stop_at, s.status) for s in report.states}
    assert got == {pid: expected_stop(pid, a, m, 40) for pid, a in ANSWERS.items()}
    run = Run.open(tmp_path / "r")
    samples = run.samples(["problem_id", "sample_index", "seed"])
    verdicts = run.verdicts("gsm8k")
    assert len(verdicts) == len(samples) == report.samples  # every sample stored and graded
    assert run.manifest["solve"]["successes"] == m and run.manifest["k"] == 40
    for pid, g in samples.groupby("problem_id"):  # seeds as in `sample`; at most one chunk past the stop
        assert sorted(g["sample_index"]) == list(range(len(g)))
        assert len(g) >= got[pid][0]
    assert engine.closed


def test_pooled_verifier_runs_beside_the_engine_and_gives_the_same_stops(tmp_path: Path) -> None:
    data = write_problems(tmp_path / "p.jsonl")
    config = solve_config(data, successes=2, growth=0.5, verifier="t-solve-pooled", workers=2, in_flight=4)
    report = solve(str(tmp_path / "r"), config, FakeEngine)
    got = {s.problem.problem_id: (s.stop_at, s.status) for s in report.states}
    assert got == {pid: expected_stop(pid, a, 2, 40) for pid, a in ANSWERS.items()}
    run = Run.open(tmp_path / "r")
    assert len(run.verdicts("t-solve-pooled")) == run.num_samples() == report.samples


def test_budget_stops_the_run_and_marks_open_problems(tmp_path: Path) -> None:
    data = write_problems(tmp_path / "p.jsonl", {f"q{i}": 99 for i in range(4)})  # 99 never passes
    report = solve(str(tmp_path / "r"), solve_config(data, cap=100, budget_samples=30), FakeEngine)
    assert report.samples == 30 and report.budget_hit
    assert {s.status for s in report.states} == {"budget"}
    assert sorted(s.issued for s in report.states) == [7, 7, 8, 8]  # one stratum: an even split

    def boom() -> FakeEngine:
        raise AssertionError("engine started with the budget spent")

    again = solve(str(tmp_path / "r"), solve_config(data, cap=100, budget_samples=30), boom)
    assert again.budget_hit and {s.status for s in again.states} == {"budget"} and again.samples == 30


def test_resolve_of_a_finished_run_starts_no_engine(tmp_path: Path) -> None:
    data = write_problems(tmp_path / "p.jsonl")
    first = solve(str(tmp_path / "r"), solve_config(data), FakeEngine)

    def boom() -> FakeEngine:
        raise AssertionError("engine started for a finished solve run")

    again = solve(str(tmp_path / "r"), solve_config(data), boom)
    assert [(s.stop_at, s.status) for s in again.states] == [(s.stop_at, s.status) for s in first.states]


def test_solve_refuses_a_run_with_another_success_target(tmp_path: Path) -> None:
    data = write_problems(tmp_path / "p.jsonl")
    solve(str(tmp_path / "r"), solve_config(data, successes=1), FakeEngine)
    with pytest.raises(MonkeysError, match="solve.successes"):
        solve(str(tmp_path / "r"), solve_config(data, successes=2), FakeEngine)


class Biased(FakeEngine):
    """Four samples in five answer 3, the rest seed % 7: a clear leader, reached at a seed-fixed sample."""

    def generate(self, requests, params):  # type: ignore[no-untyped-def]
        for c in super().generate(requests, params):
            texts = tuple(
                f"seed={c.request.seed + j} #### {3 if (c.request.seed + j) % 5 else (c.request.seed + j) % 7}"
                for j in range(c.request.n)
            )
            yield replace(c, texts=texts)


def test_majority_stop_stops_when_the_leader_is_decided(tmp_path: Path) -> None:
    data = write_problems(tmp_path / "p.jsonl")
    report = solve(
        str(tmp_path / "r"),
        solve_config(data, cap=50, stop="majority", confidence=0.95, min_samples=3),
        Biased,
    )
    for st in report.states:
        base = seed_base(0, st.problem.problem_id)
        votes: dict[int, int] = {}
        expected = None
        for j in range(50):
            a = 3 if (base + j) % 5 else (base + j) % 7
            votes[a] = votes.get(a, 0) + 1
            if j + 1 >= 3 and leader_decided(list(votes.values()), 0.95):
                expected = j + 1
                break
        assert (st.status, st.stop_at) == ("decided", expected)
        assert st.vote_correct == (ANSWERS[st.problem.problem_id] == 3)  # the leader is 3 everywhere
    assert report.samples < 50 * len(ANSWERS) / 3  # the vote is decided long before the cap


KILLED = """
import sys, time
from tests.fakes import FakeEngine
from tests.test_solve_loop import solve_config
from monkeys.sampler.solve import solve

class Stalls(FakeEngine):
    def generate(self, requests, params):
        for i, c in enumerate(super().generate(requests, params)):
            if i == 25:
                while True:  # the parent kills us here, once it sees stored rows
                    time.sleep(0.05)
            yield c

solve(sys.argv[1], solve_config(sys.argv[2], cap=60, successes=2, growth=0.5), Stalls, flush_seconds=0.0)
"""


def test_kill_9_during_solve_then_resume_gives_the_same_stops(tmp_path: Path) -> None:
    data = write_problems(tmp_path / "p.jsonl")
    whole = solve(str(tmp_path / "whole"), solve_config(data, cap=60, successes=2, growth=0.5), FakeEngine)
    run_dir = tmp_path / "killed"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    proc = subprocess.Popen([sys.executable, "-c", KILLED, str(run_dir), data], env=env)
    try:
        deadline = time.monotonic() + 120
        while True:  # wait for stored verdict rows, not for a time
            if Run.exists(run_dir) and Run.open(run_dir).table("verdicts").num_rows() >= 20:
                break
            assert proc.poll() is None, "the solve process ended before it was killed"
            assert time.monotonic() < deadline, "no rows were stored"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    partial = Run.open(run_dir)
    before = partial.num_samples()
    assert 0 < before < whole.samples
    resumed = solve(str(run_dir), solve_config(data, cap=60, successes=2, growth=0.5), FakeEngine)
    assert [(s.stop_at, s.status, s.first_pass) for s in resumed.states] == [
        (s.stop_at, s.status, s.first_pass) for s in whole.states
    ]
    run = Run.open(run_dir)
    assert len(run.verdicts("gsm8k")) == run.num_samples()
    assert not run.samples(["problem_id", "sample_index"]).duplicated().any()


def test_distinct_passes_group_equivalent_answers_and_the_estimate_reads_to_the_mth_pass(
    tmp_path: Path,
) -> None:
    """GSM8K passes all state the one right answer: with distinct counting m = 2 is never reached, every
    problem runs to the cap, and the estimate is still read at the 2nd pass counting every pass."""
    from monkeys.sampler.solve import stops_of

    data = write_problems(tmp_path / "p.jsonl")
    report = solve(str(tmp_path / "r"), solve_config(data, cap=20, successes=2, distinct=True), FakeEngine)
    assert {s.status for s in report.states} == {"cap"}
    assert all(len(s.distinct) == 1 for s in report.states)
    stops = stops_of(report.states, 2, 20)
    for pid, n, hit in zip(stops.problems, stops.n, stops.stopped, strict=True):
        assert hit and (n, "solved") == expected_stop(str(pid), ANSWERS[str(pid)], 2, 20)
