"""The solve loop's real decision logic (`Solver`) driven by a simulated engine and verifier.

Each problem has a fixed outcome stream (pass or not per sample index; every pass a distinct program); the simulated engine holds every
issued chunk and returns them in a chosen order (random by default), so tests and `bench/bench_solve.py`
exercise chunking, allocation, budgets and arrival order without a model or a run store.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from monkeys.records import Completion, Problem, SamplingParams, Verdict
from monkeys.sampler.allocation import POLICIES
from monkeys.sampler.loop import SampleConfig
from monkeys.sampler.solver import ProblemState, SolveConfig, Solver
from monkeys.tasks.base import TaskOptions

FAIL = Verdict("fail", "0")


@dataclass
class SimResult:
    states: list[ProblemState]
    issued: int  # samples drawn (including overshoot)
    requests: int


def sim_config(cap: int, **kw: object) -> SolveConfig:
    sample = SampleConfig("sim", TaskOptions(), "sim", cap, chunk_size=int(kw.pop("max_chunk", 64)))  # type: ignore[call-overload]
    return SolveConfig(sample=sample, **kw)  # type: ignore[arg-type]


def simulate(
    outcomes: Sequence[np.ndarray],
    config: SolveConfig,
    rng: np.random.Generator | None = None,
    strata: Sequence[str] | None = None,
    order: str = "random",
    programs: Sequence[Sequence[str]] | None = None,
) -> SimResult:
    """Run the solve loop on problems whose sample j passes iff `outcomes[i][j]` (length >= the cap).

    `order`: "random" returns any in-flight chunk next, "fifo" the oldest, "lifo" the newest. `programs[i][j]`
    is the program (answer) of problem i's sample j where it passes (default: every pass a new program)."""
    rng = rng or np.random.default_rng(0)
    cap = config.sample.k
    states = [
        ProblemState(Problem(f"p{i}", "", ""), i, cap, strata[i] if strata else "", bytearray(cap))
        for i in range(len(outcomes))
    ]
    solver = Solver(config, states, None, POLICIES.create(config.policy))  # type: ignore[arg-type]

    def text(i: int, k: int) -> str:
        return programs[i][k] if programs is not None else f"program_{k} = {k}"

    flight: list = []
    requests = 0
    while True:
        while (req := solver.next_request()) is not None:
            flight.append(req)
            requests += 1
        if not flight:
            break
        j = {"random": int(rng.integers(len(flight))), "fifo": 0, "lifo": len(flight) - 1}[order]
        req = flight.pop(j)
        n = req.n
        solver.received(Completion(req, ("",) * n, 0, (1,) * n, ("stop",) * n, (None,) * n))
        out = outcomes[int(req.problem_id[1:])]
        solver.absorb(
            [
                (req.problem_id, k, Verdict("pass", text(int(req.problem_id[1:]), k)) if out[k] else FAIL)
                for k in range(req.start_index, req.start_index + n)
            ]
        )
    return SimResult(states, solver.issued_total, requests)


__all__ = ["SamplingParams", "SimResult", "sim_config", "simulate"]
