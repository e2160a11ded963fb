"""The `solve` loop: sample and verify together, stop each problem when it is solved, spend a budget well.

Invariants:

* Sample j of a problem has seed base(run seed, problem) + j, as in `sample`, and every stored sample and
  verdict lands in the normal run store (verdicts under the verifier's name and version).
* A problem's stop is read from its verified samples in index order (`analysis/stopping.py`): the m-th
  pass, the cap, or (`--stop majority`) the sample at which the leading answer is decided. The sequence of
  samples is fixed by the seeds, so the stop does not depend on chunking, arrival order, or being killed
  and resumed: a resumed run reads what is stored, verifies what has no verdict, and carries on.
* Regular chunks of a problem grow (single samples until it holds 1/`growth`, then `growth` of what it
  holds, at most `max_chunk`) and wait until the problem's previous chunk is graded, so few samples are
  drawn past a stop. The engine is kept at `in_flight` samples by admitting more problems, chosen by the
  allocation policy; `fill` gives problems without a chunk out up to FILL_SHARE of what each holds; when
  every open problem has a chunk out and the engine has room, chunks are drawn ahead of the verdicts for the
  problems least likely to stop before those chunks are read (`Solver.stop_risk` at most `speculate`).
  None of this changes a stop or an estimate: those are read from the seeded samples in index order.
* Samples are written before the verdicts that grade them, so a kill never leaves a verdict without its
  sample.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from monkeys.errors import MonkeysError
from monkeys.records import Request
from monkeys.sampler.allocation import POLICIES
from monkeys.sampler.base import Engine
from monkeys.sampler.loop import check_compatible, completion_rows, load_task, problems_frame
from monkeys.sampler.solver import FILL_SHARE, ProblemState, SolveConfig, Solver, leader_decided
from monkeys.store import Run
from monkeys.store.schema import SAMPLES
from monkeys.store.shards import ShardBuffer
from monkeys.verifiers.base import JudgesEquivalence, Verdict, Verifier


@dataclass
class SolveReport:
    run: Run
    states: list[ProblemState]
    samples: int  # samples stored in the run
    tokens: int
    new_samples: int
    seconds: float
    budget_hit: bool
    dollars: float | None = None  # spent, where a dollar budget priced the run

    @property
    def past_stop(self) -> int:
        """Samples drawn past the stops (chunks that overshot, and chunks issued ahead of verdicts)."""
        return sum(s.past_stop for s in self.states)

    @property
    def speculated(self) -> int:
        return sum(s.speculated for s in self.states)


def _count(x: Any) -> int | None:
    """A stored token count, None where the engine reported none (NaN in the table)."""
    return None if x is None or x != x else int(x)


Cost = tuple[str, int, int | None]  # problem id, prompt tokens, completion tokens of one stored sample


def _stored_state(
    run: Run | None, states: list[ProblemState], verifier: Verifier
) -> tuple[list[tuple[str, int, str]], list[Cost]]:
    """Fill the states from a run being resumed; returns the stored samples that have no verdict yet, and
    what every stored sample cost (for the budget)."""
    if run is None:
        return [], []
    df = run.samples(["problem_id", "sample_index", "text", "prompt_tokens", "completion_tokens"])
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
    costs: list[Cost] = []
    for pid, idx, text, ptok, tok in zip(
        df["problem_id"],
        df["sample_index"],
        df["text"],
        df["prompt_tokens"],
        df["completion_tokens"],
        strict=True,
    ):
        st = by_id.get(pid)
        if st is None or idx >= st.cap or st.have[idx]:
            continue
        st.have[idx] = 1
        st.issued += 1
        st.tokens += int(tok or 0)
        costs.append((pid, _count(ptok) or 0, _count(tok)))
        got = graded.get((pid, int(idx)))
        if got is None:
            todo.append((pid, int(idx), str(text or "")))
        else:
            v, a = got
            st.passed[int(idx)] = v == "pass"
            st.answers[int(idx)] = None if a is None or a != a else str(a)
            if v == "pass" and (st.first_pass is None or idx < st.first_pass):
                st.first_pass = int(idx)
    return todo, costs


def solve(
    run_path: str,
    config: SolveConfig,
    make_engine: Callable[[], Engine],
    on_progress: Callable[[Solver], None] | None = None,
    flush_seconds: float = 2.0,
) -> SolveReport:
    """Run (or resume) a solve run until every problem has stopped or the budget is spent."""
    from monkeys.sampler.checks import InlineChecker, ThreadedChecker
    from monkeys.store.verdict_sets import canonical
    from monkeys.verifiers.stage.runner import _Sink, default_workers, make_verifier, verdict_options

    c = config
    if c.sample.k < 1 or c.successes < 1:
        raise MonkeysError("need --max-per-problem >= 1 and --successes >= 1")
    if c.stop not in ("pass", "majority"):
        raise MonkeysError(f"unknown --stop {c.stop!r}; choose pass or majority")
    if c.in_flight < 1 or not 0 < c.growth <= 1:
        raise MonkeysError("need --in-flight >= 1 and 0 < --growth <= 1")
    problems, default_verifier, _, few_shot = load_task(c.sample)
    name = c.verifier or default_verifier
    workers = c.workers or default_workers()
    verifier, chosen = make_verifier(name, {**c.verifier_options, "timeout": c.timeout, "workers": workers})
    if c.stop == "majority" and not isinstance(verifier, JudgesEquivalence):
        raise MonkeysError(
            f"--stop majority needs a verifier that groups answers; {name} does not (use --stop pass)"
        )
    identity = c.sample.identity(default_verifier, few_shot)
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
    unverified, costs = _stored_state(run, states, verifier)
    solver = Solver(c, states, verifier, POLICIES.create(c.policy))
    for pid, prompt_tokens, tokens in costs:
        solver.budget.charge(pid, prompt_tokens, [tokens])
    by_id = {p.problem_id: p for p in problems}
    inline = verifier.runs_inline
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
            buffer = ShardBuffer(samples_table.append, SAMPLES, flush_seconds)
            options = canonical(verdict_options(name, chosen, c.timeout, verifier.runs_inline))
            sink = _Sink(verdict_table, name, str(verifier.version), None, by_id, options)
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
                    buffer.add(completion_rows(comp), comp.request.n)
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
        solver.budget.spent_dollars if c.price is not None else None,
    )


def stops_of(states: list[ProblemState], m: int, cap: int) -> Any:
    """The per-problem (n, s, stopped) that `analysis/stopping.py` estimates from: read up to the m-th pass
    counting every pass, also where the stop waited for m distinct ones (see `stopping.py`)."""
    from monkeys.analysis.stopping import Stops

    return Stops(
        np.array([s.problem.problem_id for s in states]),
        np.array([s.read if s.m_read is None else s.m_read for s in states]),
        np.array([s.passes if s.m_read is None else m for s in states]),
        np.array([s.m_read is not None for s in states]),
        m,
        cap,
    )


__all__ = [
    "FILL_SHARE",
    "ProblemState",
    "SolveConfig",
    "SolveReport",
    "Solver",
    "leader_decided",
    "solve",
    "stops_of",
]
