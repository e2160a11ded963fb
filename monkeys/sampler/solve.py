"""The `solve` loop: sample and verify together, stop each problem when it is solved, spend a budget well.

Invariants:

* Sample j of a problem has seed base(run seed, problem) + j, as in `sample`, and every stored sample and
  verdict lands in the normal run store (verdicts under the verifier's name and version).
* A problem's stop is read from its verified samples in index order (`analysis/stopping.py`): the m-th
  pass, the cap, or (`--stop majority`) the sample at which the leading answer is decided. The sequence of
  samples is fixed by the seeds, so the stop does not depend on chunking, arrival order, or being killed
  and resumed: a resumed run reads what is stored, verifies what has no verdict, and carries on.
* Chunks of a problem grow (single samples until it holds 1/`growth`, then `growth` of what it holds, at
  most `max_chunk`) and a problem has one chunk out (drawn or ungraded) at a time, so few samples are drawn
  past a stop. The engine is kept at `in_flight` samples by admitting more problems, chosen by the
  allocation policy; where regular chunks leave the engine short, `fill` splits the spare room over the
  problems that can take a chunk, at most FILL_SHARE of what each holds (cheap for hopeless problems,
  which reach the cap anyway, and it keeps the tail of a run from idling the engine).
* Samples are written before the verdicts that grade them, so a kill never leaves a verdict without its
  sample.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.special import betainc

from monkeys.errors import MonkeysError
from monkeys.records import Completion, Problem, Request
from monkeys.sampler.allocation import POLICIES, Arm, Policy
from monkeys.sampler.base import Engine
from monkeys.sampler.loop import SampleConfig, ShardBuffer, check_compatible, load_task, problems_frame
from monkeys.sampler.schedule import seed_base
from monkeys.store import Run
from monkeys.verifiers.base import Verdict, Verifier

FILL_SHARE = 0.25  # fill gives a problem at most this fraction of what it holds: bounds its overshoot


@dataclass(frozen=True)
class SolveConfig:
    """A solve run: the sampling settings (`sample.k` is the cap per problem) and the stop rule."""

    sample: SampleConfig
    successes: int = 1
    stop: str = "pass"  # "pass": m verified passes; "majority": the leading answer is decided
    verifier: str | None = None
    verifier_options: dict[str, Any] = field(default_factory=dict)
    budget_samples: int | None = None
    budget_tokens: int | None = None
    policy: str = "beta-binomial"
    stratum: str | None = None  # a task field the policy fits its prior per value of (e.g. level)
    in_flight: int = 256  # samples kept in the engine
    growth: float = 0.125
    fill: bool = True
    confidence: float = 0.95  # majority: P(leader stays leader) needed to stop
    min_samples: int = 3  # majority: samples before the rule may stop a problem
    workers: int | None = None
    timeout: float = 10.0

    def identity(self, verifier: Verifier) -> dict[str, Any]:
        return {
            "stop": self.stop,
            "successes": self.successes,
            "max_per_problem": self.sample.k,
            "verifier": verifier.name,
            "verifier_version": str(verifier.version),
            **(
                {"confidence": self.confidence, "min_samples": self.min_samples}
                if self.stop == "majority"
                else {}
            ),
        }


@dataclass
class ProblemState:
    """One problem's samples as the loop sees them. `have` marks indices stored or in flight."""

    problem: Problem
    index: int
    cap: int
    stratum: str = ""
    have: bytearray = field(default_factory=bytearray)
    passed: dict[int, bool] = field(default_factory=dict)
    answers: dict[int, str | None] = field(default_factory=dict)
    read: int = 0  # samples 0..read-1 are verified and read
    passes: int = 0  # among them
    first_pass: int | None = None
    stop_at: int | None = None  # samples used by the estimate (the stop index + 1) once done
    status: str = "open"  # open, solved, cap, decided, budget
    in_flight: int = 0
    issued: int = 0
    tokens: int = 0
    groups: list[tuple[str, int, bool]] = field(default_factory=list)  # majority: (answer, votes, passed)

    @property
    def done(self) -> bool:
        return self.status != "open"

    @property
    def vote_correct(self) -> bool | None:
        """Majority stop: whether the leading answer group (first reached on ties) passes the verifier."""
        if not self.groups:
            return None
        return max(self.groups, key=lambda g: g[1])[2]

    def next_stretch(self, want: int) -> tuple[int, int] | None:
        """(start, n): the first indices not yet held, at most `want` of them, contiguous."""
        try:
            start = self.have.index(0)
        except ValueError:
            return None
        end = start
        while end < self.cap and end - start < want and not self.have[end]:
            end += 1
        return start, end - start


@dataclass
class SolveReport:
    run: Run
    states: list[ProblemState]
    samples: int  # samples stored in the run
    tokens: int
    new_samples: int
    seconds: float
    budget_hit: bool


def leader_decided(counts: list[int], confidence: float) -> bool:
    """Adaptive-Consistency's Beta rule: with v1 >= v2 the two largest vote counts, stop when
    P(p1 > p2 | votes) = P(X > 1/2), X ~ Beta(v1 + 1, v2 + 1), reaches `confidence`."""
    if not counts:
        return False
    top = sorted(counts, reverse=True) + [0]
    return float(1.0 - betainc(top[0] + 1, top[1] + 1, 0.5)) >= confidence


class Solver:
    """Holds the states, builds requests, reads verdicts in order and decides stops."""

    def __init__(self, config: SolveConfig, states: list[ProblemState], verifier: Verifier, policy: Policy):
        self.config, self.states, self.verifier, self.policy = config, states, verifier, policy
        self.by_id = {s.problem.problem_id: s for s in states}
        self.in_flight = 0
        self.issued_total = sum(s.issued for s in states)
        self.tokens_total = sum(s.tokens for s in states)
        self.budget_hit = False
        self._choices = 0
        self._everyone: list[Arm] = []

    # -- stopping --------------------------------------------------------------------------------------
    def absorb(self, graded: list[tuple[str, int, Verdict]]) -> None:
        for pid, idx, v in graded:
            st = self.by_id[pid]
            st.passed[idx] = v.passed
            st.answers[idx] = v.answer
            if v.passed and (st.first_pass is None or idx < st.first_pass):
                st.first_pass = idx
        for pid in {g[0] for g in graded}:
            self._advance(self.by_id[pid])

    def _advance(self, st: ProblemState) -> None:
        c = self.config
        while not st.done and st.read in st.passed:
            i = st.read
            st.read += 1
            if st.passed[i]:
                st.passes += 1
            if c.stop == "majority":
                self._vote(st, st.answers[i], st.passed[i])
                if st.read >= c.min_samples and leader_decided([g[1] for g in st.groups], c.confidence):
                    st.status, st.stop_at = "decided", st.read
            elif st.passes >= c.successes:
                st.status, st.stop_at = "solved", st.read
            if not st.done and st.read >= st.cap:
                st.status, st.stop_at = "cap", st.read

    def _vote(self, st: ProblemState, answer: str | None, passed: bool) -> None:
        if answer is None:
            return
        same = self.verifier.same_answer  # type: ignore[attr-defined]
        for g, (rep, n, ok) in enumerate(st.groups):
            if rep == answer or same(st.problem, rep, answer):
                st.groups[g] = (rep, n + 1, ok or passed)
                return
        st.groups.append((answer, 1, passed))

    # -- issuing ---------------------------------------------------------------------------------------
    def budget_left(self) -> int:
        c = self.config
        left = c.budget_samples - self.issued_total if c.budget_samples is not None else 1 << 62
        if c.budget_tokens is not None and self.tokens_total >= c.budget_tokens:
            left = 0
        return max(left, 0)

    def candidates(self) -> list[ProblemState]:
        # one chunk out per problem: out means drawn and not yet graded
        return [s for s in self.states if not s.done and len(s.passed) >= s.issued and s.issued < s.cap]

    def next_request(self) -> Request | None:
        """The next chunk to sample, or None when no open problem can take one now."""
        left = self.budget_left()
        if left == 0:
            self.budget_hit = self.budget_hit or any(not s.done for s in self.states)
            return None
        if self.in_flight >= self.config.in_flight:
            return None
        cands = self.candidates()
        if not cands:
            return None
        arms = [Arm(s.index, s.read, s.passes, s.issued, s.stratum) for s in cands]
        if self._choices % 32 == 0:  # the whole run's counts, for policies that learn from them
            self._everyone = [Arm(s.index, s.read, s.passes, s.issued, s.stratum) for s in self.states]
        self._choices += 1
        st = cands[self.policy.choose(arms, self._everyone)]
        c = self.config
        want = max(1, math.ceil(c.growth * st.issued)) if st.issued >= 1 / c.growth else 1
        if c.stop == "majority" and st.issued < c.min_samples:
            want = c.min_samples - st.issued
        if c.fill:  # spare engine room split over the open problems that could use it
            spare = c.in_flight - self.in_flight
            want = max(want, min(spare // max(len(cands), 1), int(FILL_SHARE * st.issued)))
        want = min(want, c.sample.chunk_size, left, c.in_flight)
        stretch = st.next_stretch(want)
        if stretch is None:
            return None
        start, n = stretch
        for j in range(start, start + n):
            st.have[j] = 1
        st.in_flight += n
        st.issued += n
        self.in_flight += n
        self.issued_total += n
        pid = st.problem.problem_id
        return Request(pid, st.problem.prompt, start, n, seed_base(c.sample.seed, pid) + start)

    def received(self, comp: Completion) -> None:
        st = self.by_id[comp.request.problem_id]
        st.in_flight -= comp.request.n
        self.in_flight -= comp.request.n
        made = sum(comp.completion_tokens)
        st.tokens += made
        self.tokens_total += made

    def finished(self) -> bool:
        return all(s.done for s in self.states)


def _stored_state(
    run: Run | None, states: list[ProblemState], verifier: Verifier
) -> list[tuple[str, int, str]]:
    """Fill the states from a run being resumed; returns the stored samples that have no verdict yet."""
    if run is None:
        return []
    df = run.samples(["problem_id", "sample_index", "text", "completion_tokens"])
    by_id = {s.problem.problem_id: s for s in states}
    verdicts = run.verdicts(verifier.name)
    if not verdicts.empty:
        verdicts = verdicts[verdicts["verifier_version"] == str(verifier.version)]
    graded = {
        (p, int(i)): (v, a)
        for p, i, v, a in zip(
            verdicts.get("problem_id", []),
            verdicts.get("sample_index", []),
            verdicts.get("verdict", []),
            verdicts.get("answer", []),
            strict=True,
        )
    }
    todo: list[tuple[str, int, str]] = []
    for pid, idx, text, tok in zip(
        df["problem_id"], df["sample_index"], df["text"], df["completion_tokens"], strict=True
    ):
        st = by_id.get(pid)
        if st is None or idx >= st.cap or st.have[idx]:
            continue
        st.have[idx] = 1
        st.issued += 1
        st.tokens += int(tok or 0)
        got = graded.get((pid, int(idx)))
        if got is None:
            todo.append((pid, int(idx), str(text or "")))
        else:
            v, a = got
            st.passed[int(idx)] = v == "pass"
            st.answers[int(idx)] = None if a is None or a != a else str(a)
            if v == "pass" and (st.first_pass is None or idx < st.first_pass):
                st.first_pass = int(idx)
    return todo


def solve(
    run_path: str,
    config: SolveConfig,
    make_engine: Callable[[], Engine],
    on_progress: Callable[[Solver], None] | None = None,
    flush_seconds: float = 2.0,
) -> SolveReport:
    """Run (or resume) a solve run until every problem has stopped or the budget is spent."""
    from monkeys.sampler.checks import InlineChecker, ThreadedChecker
    from monkeys.verifiers.stage.runner import _Sink, default_workers, make_verifier

    c = config
    if c.sample.k < 1 or c.successes < 1:
        raise MonkeysError("need --max-per-problem >= 1 and --successes >= 1")
    if c.stop not in ("pass", "majority"):
        raise MonkeysError(f"unknown --stop {c.stop!r}; choose pass or majority")
    if c.in_flight < 1 or not 0 < c.growth <= 1:
        raise MonkeysError("need --in-flight >= 1 and 0 < --growth <= 1")
    problems, default_verifier, _ = load_task(c.sample)
    name = c.verifier or default_verifier
    workers = c.workers or default_workers()
    verifier, chosen = make_verifier(name, {**c.verifier_options, "timeout": c.timeout, "workers": workers})
    if c.stop == "majority" and not hasattr(verifier, "same_answer"):
        raise MonkeysError(
            f"--stop majority needs a verifier that groups answers; {name} does not (use --stop pass)"
        )
    identity = c.sample.identity(default_verifier)
    solve_id = c.identity(verifier)
    t0 = time.monotonic()
    run: Run | None = None
    if Run.exists(run_path):
        run = Run.open(run_path)
        check_compatible(run, {**identity, "solve": solve_id})
        if [p.problem_id for p in problems] != run.problem_ids():
            raise MonkeysError(
                f"run dir {run_path} holds other problems than the command selects; repeat its --limit/--offset/--problems or use a new --run"
            )
    cap = c.sample.k
    states = [
        ProblemState(p, i, cap, str(p.fields.get(c.stratum, "")) if c.stratum else "", bytearray(cap))
        for i, p in enumerate(problems)
    ]
    unverified = _stored_state(run, states, verifier)
    solver = Solver(c, states, verifier, POLICIES.create(c.policy))
    by_id = {p.problem_id: p for p in problems}
    inline = getattr(verifier, "runs_inline", False)
    checker: InlineChecker | ThreadedChecker = (
        InlineChecker(verifier, by_id)
        if inline
        else ThreadedChecker(verifier, name, chosen, by_id, workers, c.timeout)
    )
    engine: Engine | None = None
    new = 0
    try:
        if run is None:
            run = Run.create(
                run_path,
                {**identity, "k": cap, "solve": solve_id, "engine": {"name": c.sample.engine}},
                problems_frame(problems),
            )
        with run.writer("samples") as samples_table, run.writer("verdicts") as verdict_table:
            buffer = ShardBuffer(samples_table.append, flush_seconds)
            sink = _Sink(verdict_table, name, str(verifier.version), None, by_id)
            last = [time.monotonic()]
            graded_rows: list[tuple[str, int, Verdict]] = []

            def take(graded: list[tuple[str, int, Verdict]]) -> None:
                if graded:
                    solver.absorb(graded)
                    graded_rows.extend(graded)
                if time.monotonic() - last[0] >= flush_seconds:
                    flush()

            def flush() -> None:
                buffer.flush()  # samples first: a verdict never outlives its sample
                sink.add_rows(graded_rows)
                graded_rows.clear()
                sink.flush()
                last[0] = time.monotonic()

            checker.submit(unverified)
            take(checker.drain(block=True))
            while checker.pending:
                take(checker.drain(block=True))
            for st in states:
                solver._advance(st)

            def feed() -> Iterator[Request | None]:
                while True:
                    take(checker.drain())
                    req = solver.next_request()
                    if req is not None:
                        yield req
                        continue
                    if solver.finished() or solver.budget_left() == 0:
                        return
                    if solver.in_flight > 0:
                        yield None  # nothing to add until the engine returns a chunk
                    elif checker.pending:
                        take(checker.drain(block=True))
                    else:
                        return  # every open problem holds all its indices: nothing left to draw

            if not solver.finished() and solver.budget_left() > 0:
                engine = make_engine()
                run.update_manifest(engine=engine.describe())
                from monkeys.sampler.loop import _guarded

                for comp in _guarded(engine.generate(feed(), c.sample.sampling)):
                    buffer.add(comp)
                    new += comp.request.n
                    solver.received(comp)
                    start = comp.request.start_index
                    checker.submit(
                        [(comp.request.problem_id, start + j, t) for j, t in enumerate(comp.texts)]
                    )
                    take(checker.drain())
                    if on_progress:
                        on_progress(solver)
            while checker.pending:
                take(checker.drain(block=True))
            flush()
            if sink.shards > 1:
                verdict_table.compact()
            samples_table.compact()
        run.update_manifest()
    finally:
        checker.close()
        if engine is not None:
            engine.close()
    solver.budget_hit = solver.budget_left() == 0 and not solver.finished()
    for st in states:
        if not st.done and solver.budget_hit:
            st.status = "budget"
    return SolveReport(
        run,
        states,
        sum(s.issued for s in states),
        sum(s.tokens for s in states),
        new,
        time.monotonic() - t0,
        solver.budget_hit,
    )


def stops_of(states: list[ProblemState], m: int, cap: int) -> Any:
    """The per-problem (n, s, stopped) that `analysis/stopping.py` estimates from."""
    from monkeys.analysis.stopping import Stops

    return Stops(
        np.array([s.problem.problem_id for s in states]),
        np.array([s.read for s in states]),
        np.array([s.passes for s in states]),
        np.array([s.status == "solved" for s in states]),
        m,
        cap,
    )
