"""The solve loop's decisions, without I/O: per-problem state, which chunk to draw next, when to stop.

`solve.py` drives it with a real engine and the run store; `simulate.py` with a stand-in engine. The
invariants are stated in `solve.py`.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.special import betainc

from monkeys.analysis.model_config import Price
from monkeys.records import Completion, Problem, Request
from monkeys.sampler.allocation import Arm, Policy, fit_beta_binomial
from monkeys.sampler.budget import Budget
from monkeys.sampler.loop import SampleConfig
from monkeys.sampler.schedule import seed_base
from monkeys.verifiers.base import JudgesEquivalence, Verdict, Verifier

# Drawing ahead's prior is kept at least this strong (a + b; 2 is the uniform prior): fitted to a sample or
# two per problem, the beta-binomial cannot tell how spread the pass rates are and drifts to a U shape that
# would call a problem hopeless after one failure (seen on GSM8K replays: 4x overshoot).
MIN_STRENGTH = 2.0
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
    budget_dollars: float | None = None
    price: Price | None = None  # the model's prices, for a dollar budget
    distinct: bool = True  # --successes counts distinct passing programs/answers (False: every pass)
    policy: str = "beta-binomial"
    stratum: str | None = None  # a task field the policy fits its prior per value of (e.g. level)
    in_flight: int = 256  # samples kept in the engine
    growth: float = 0.125
    fill: bool = True
    speculate: float = 0.1  # issue ahead of verdicts while P(the problem stops before the chunk) <= this
    confidence: float = 0.95  # majority: P(leader stays leader) needed to stop
    min_samples: int = 3  # majority: samples before the rule may stop a problem
    workers: int | None = None
    timeout: float = 10.0

    def identity(self, verifier: Verifier) -> dict[str, Any]:
        return {
            "stop": self.stop,
            "successes": self.successes,
            "count": "distinct" if self.distinct else "all",
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
    m_read: int | None = None  # `read` when the m-th pass (distinct or not) was read: the estimator's N
    distinct: list[str | None] = field(default_factory=list)  # one answer/program per distinct pass
    first_pass: int | None = None
    stop_at: int | None = None  # samples used by the estimate (the stop index + 1) once done
    status: str = "open"  # open, solved, cap, decided, budget
    in_flight: int = 0
    issued: int = 0
    tokens: int = 0
    speculated: int = 0  # samples issued ahead of the verdicts of earlier chunks
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

    @property
    def past_stop(self) -> int:
        """Samples drawn past the stop (overshoot), once stopped."""
        return self.issued - self.stop_at if self.stop_at is not None else 0

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


def normalised_program(text: str) -> str:
    """A program's text up to formatting and comments (its AST, unparsed); other text, whitespace-collapsed."""
    try:
        return ast.unparse(ast.parse(text))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return " ".join(text.split())


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
        c = config
        self.budget = Budget(
            c.budget_samples, c.budget_tokens, c.budget_dollars, c.price, c.sample.sampling.max_tokens
        )
        self.budget.issued = sum(s.issued for s in states)
        self.budget_hit = False
        self._choices = 0
        self._everyone: list[Arm] = []
        self._reads = 0  # samples read, all problems
        self._prior_reads = 0  # total reads when the speculation prior was last fitted
        self._prior = (1.0, 1.0)
        self._risk = np.full(len(states), np.inf)  # cached `stop_risk` per problem (inf: cannot take a chunk)
        self._dirty = set(range(len(states)))  # problems whose cached risk is stale

    @property
    def issued_total(self) -> int:
        return self.budget.issued

    @property
    def tokens_total(self) -> int:
        return self.budget.spent_tokens

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
        self._dirty.add(st.index)
        while not st.done and st.read in st.passed:
            i = st.read
            st.read += 1
            self._reads += 1
            if st.passed[i]:
                st.passes += 1
                if st.passes == c.successes:
                    st.m_read = st.read
                if c.distinct and c.stop != "majority":
                    self._count_distinct(st, st.answers[i])
            if c.stop == "majority":
                self._vote(st, st.answers[i], st.passed[i])
                if st.read >= c.min_samples and leader_decided([g[1] for g in st.groups], c.confidence):
                    st.status, st.stop_at = "decided", st.read
            elif (len(st.distinct) if c.distinct else st.passes) >= c.successes:
                st.status, st.stop_at = "solved", st.read
            if not st.done and st.read >= st.cap:
                st.status, st.stop_at = "cap", st.read

    def _count_distinct(self, st: ProblemState, answer: str | None) -> None:
        """Count a pass if no earlier pass of the problem gave the same answer (the verifier's answer
        equivalence where it has one) or the same program up to formatting (`normalised_program`)."""
        judge = self.verifier if isinstance(self.verifier, JudgesEquivalence) else None
        key = answer if answer is None or judge is not None else normalised_program(answer)
        if key is None or judge is None:
            new = key not in st.distinct
        else:
            new = all(
                seen is None or (seen != key and not judge.same_answer(st.problem, seen, key))
                for seen in st.distinct
            )
        if new:
            st.distinct.append(key)

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
        return self.budget.left()

    def candidates(self) -> list[ProblemState]:
        # one chunk out per problem: out means drawn and not yet graded
        self._open = [s for s in self._open if s.status == "open"]
        return [s for s in self._open if len(s.passed) >= s.issued and s.issued < s.cap]

    def _grow(self, st: ProblemState) -> int:
        c = self.config
        want = max(1, math.ceil(c.growth * st.issued)) if st.issued >= 1 / c.growth else 1
        if c.stop == "majority" and st.issued < c.min_samples:
            want = c.min_samples - st.issued
        return want

    def next_request(self) -> Request | None:
        """The next chunk to sample, or None when no open problem can take one now."""
        left = self.budget_left()
        if left == 0:
            self.budget_hit = self.budget_hit or any(not s.done for s in self.states)
            return None
        c = self.config
        if self.in_flight >= c.in_flight:
            return None
        spare = c.in_flight - self.in_flight
        cands = self.candidates()
        speculative = not cands
        if cands:
            arms = [Arm(s.index, s.read, s.passes, s.issued, s.stratum) for s in cands]
            if self._choices % 32 == 0:  # the whole run's counts, for policies that learn from them
                self._everyone = [Arm(s.index, s.read, s.passes, s.issued, s.stratum) for s in self.states]
            self._choices += 1
            st = cands[self.policy.choose(arms, self._everyone)]
            want = self._grow(st)
            if c.fill:  # spare engine room split over the open problems that could use it
                want = max(want, min(spare // max(len(cands), 1), int(FILL_SHARE * st.issued)))
        else:
            picked = self._speculative(spare, left)
            if picked is None:
                return None
            st, want = picked
        want = min(want, c.sample.chunk_size, left, spare)
        stretch = st.next_stretch(want)
        if stretch is None:
            return None
        start, n = stretch
        for j in range(start, start + n):
            st.have[j] = 1
        st.in_flight += n
        st.issued += n
        if speculative:
            st.speculated += n
        self._dirty.add(st.index)
        self.in_flight += n
        self.budget.issued += n
        pid = st.problem.problem_id
        return Request(pid, st.problem.prompt, start, n, seed_base(c.sample.seed, pid) + start)

    def stop_risk(self, states: list[ProblemState]) -> np.ndarray:
        """Per problem, the posterior chance that the samples it has out (issued, not yet read) hold enough
        passes to stop it: the chance that a chunk issued now is wasted. Beta-binomial predictive, with
        the run's fitted prior (`allocation.fit_beta_binomial`, refitted as the reads grow by a tenth) whose
        mean is kept at least at the Laplace estimate of the pooled pass rate and whose strength a + b at
        least MIN_STRENGTH, so that neither a run whose first samples all fail nor one failure of a problem
        declares it hopeless. Counting every pass bounds the chance for
        distinct passes from above."""
        a0, b0 = self._prior
        c = self.config
        out = []
        for st in states:  # plain floats: the lists are short, where numpy's per-call cost would dominate
            a, b = a0 + st.passes, b0 + st.read - st.passes
            o = st.issued - st.read
            need = c.successes - (len(st.distinct) if c.distinct else st.passes)
            norm = math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)
            below = 0.0  # P(fewer than `need` passes among the o out)
            for x in range(min(need, o + 1)):
                log_c = math.lgamma(o + 1) - math.lgamma(x + 1) - math.lgamma(o - x + 1)
                beta = math.lgamma(a + x) + math.lgamma(b + o - x) - math.lgamma(a + b + o)
                below += math.exp(log_c + beta - norm)
            out.append(min(max(1.0 - below, 0.0), 1.0))
        return np.array(out)

    def _refresh_risk(self) -> None:
        """Recompute the cached risks of the problems whose counts changed (all of them after a refit);
        problems that cannot take a chunk get infinity."""
        reads = self._reads
        if reads >= self._prior_reads + max(min(32, len(self.states)), self._prior_reads // 10):
            n = np.array([s.read for s in self.states])
            k = np.array([s.passes for s in self.states])
            a, b = fit_beta_binomial(n, k)
            floor = (k.sum() + 1.0) / (n.sum() + 2.0)
            mean, strength = max(a / (a + b), floor), max(a + b, MIN_STRENGTH)
            a, b = mean * strength, (1.0 - mean) * strength
            self._prior, self._prior_reads = (a, b), reads
            self._dirty = set(range(len(self.states)))
        todo = [self.states[i] for i in self._dirty]
        self._dirty = set()
        live = [s for s in todo if s.status == "open" and s.issued < s.cap]
        for s in todo:
            self._risk[s.index] = np.inf
        if live:
            self._risk[[s.index for s in live]] = self.stop_risk(live)

    def _speculative(self, spare: int, left: int) -> tuple[ProblemState, int] | None:
        """Every open problem has a chunk out and the engine has room: the problem least likely to stop
        before a new chunk of it would be read gets one, if that chance is at most `speculate`. Only when
        the budget covers every open problem to its cap (else it would take budget from allocation)."""
        c = self.config
        if c.speculate <= 0 or c.stop != "pass":
            return None
        self._refresh_risk()
        j = int(np.argmin(self._risk))
        if not self._risk[j] <= c.speculate:
            return None
        if self.budget.limited:
            demand = sum(s.cap - s.issued for s in self._open if s.status == "open")
            if left < demand:
                return None
        st = self.states[j]
        return st, self._grow(st)  # the regular size: a chunk drawn ahead overshoots no more than one

    def received(self, comp: Completion) -> None:
        st = self.by_id[comp.request.problem_id]
        st.in_flight -= comp.request.n
        self.in_flight -= comp.request.n
        st.tokens += sum(t or 0 for t in comp.completion_tokens)
        self.budget.charge(st.problem.problem_id, comp.prompt_tokens, comp.completion_tokens)

    def finished(self) -> bool:
        self._open = [s for s in self._open if s.status == "open"]
        return not self._open
