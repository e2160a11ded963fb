"""The solve loop's decisions, without I/O: per-problem state, which chunk to draw next, when to stop.

`solve.py` drives it with a real engine and the run store; `simulate.py` with a stand-in engine. The
invariants are stated in `solve.py`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from scipy.special import betainc

from monkeys.records import Completion, Problem, Request
from monkeys.sampler.allocation import Arm, Policy
from monkeys.sampler.loop import SampleConfig
from monkeys.sampler.schedule import seed_base
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
        self._open = list(states)  # pruned of finished problems as they are met
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
        self._open = [s for s in self._open if s.status == "open"]
        return [s for s in self._open if len(s.passed) >= s.issued and s.issued < s.cap]

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
        self._open = [s for s in self._open if s.status == "open"]
        return not self._open
