"""Lazy request streams (requests that depend on earlier results, None while waiting) through the engines
other than vLLM: the replica pool, the openai engine, and `solve` over a pool."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from monkeys.records import Completion, Request, SamplingParams
from monkeys.sampler.openai_engine import OpenAIEngine
from monkeys.sampler.scheduler import ReplicaPool
from monkeys.sampler.solve import solve
from tests.fakes import FakeEngine
from tests.test_openai_engine import Script, server  # noqa: F401  (the stub server fixture)
from tests.test_solve_loop import ANSWERS, expected_stop, solve_config, write_problems

PARAMS = SamplingParams()


class HoldingEngine(FakeEngine):
    """Holds what it pulls and answers only when the stream pauses (None), ends, or it holds `batch`: an
    engine with many requests in flight, where a stream that pauses wrongly would hang or fail."""

    def __init__(self, batch: int = 3) -> None:
        super().__init__()
        self.batch = batch
        self.pauses = 0

    def generate(self, requests: Iterable[Request | None], params: SamplingParams) -> Iterator[Completion]:
        held: list[Request] = []
        source = iter(requests)
        while True:
            req = next(source, StopIteration)
            if req is None:
                self.pauses += 1
                if not held:
                    raise RuntimeError("the stream paused with nothing in flight")
            elif req is not StopIteration:
                held.append(req)
            if req is None or req is StopIteration or len(held) >= self.batch:
                yield from super().generate(held, params)
                held = []
            if req is StopIteration:
                return


def chained(problems: int, chunks: int, done: set[tuple[str, int]]) -> Iterator[Request | None]:
    """Chunk c of a problem is issued only once chunk c-1 came back (as `solve` does); None meanwhile."""
    nxt = dict.fromkeys(range(problems), 0)
    while nxt:
        progressed = False
        for p, c in list(nxt.items()):
            if c == 0 or (str(p), 4 * (c - 1)) in done:
                yield Request(str(p), "q", 4 * c, 4, 100 * p + 4 * c)
                progressed = True
                nxt[p] = c + 1
                if nxt[p] == chunks:
                    del nxt[p]
        if not progressed:
            yield None


def test_a_pool_takes_a_lazy_stream_that_waits_on_its_own_results() -> None:
    engines = [HoldingEngine(), HoldingEngine()]
    done: set[tuple[str, int]] = set()
    out = []
    for comp in ReplicaPool(engines, poll=0.01).generate(chained(5, 4, done), PARAMS):
        done.add((comp.request.problem_id, comp.request.start_index))
        out.append(comp)
    assert sorted(done) == sorted((str(p), 4 * c) for p in range(5) for c in range(4))
    assert len(out) == 20 and sum(len(e.requests) for e in engines) == 20
    assert sum(e.pauses for e in engines) > 0  # the engines were handed None and carried on


def test_the_openai_engine_takes_a_lazy_stream(server: tuple[str, Script]) -> None:  # noqa: F811
    url, script = server
    engine = OpenAIEngine(base_url=url, concurrency=8)
    done: set[tuple[str, int]] = set()
    try:
        for comp in engine.generate(chained(3, 3, done), PARAMS):
            done.add((comp.request.problem_id, comp.request.start_index))
    finally:
        engine.close()
    assert sorted(done) == sorted((str(p), 4 * c) for p in range(3) for c in range(3))
    sent = [(body["seed"] // 100, body["seed"] % 100) for _, body, _ in script.calls]
    for p in range(3):  # a problem's chunks went out one after another, each after the last came back
        assert [c for q, c in sent if q == p] == [0, 4, 8]


@pytest.mark.parametrize("m", [1, 3])
def test_solve_over_a_replica_pool_gives_the_same_stops(tmp_path: Path, m: int) -> None:
    data = write_problems(tmp_path / "p.jsonl")
    pool = lambda: ReplicaPool([HoldingEngine(2), HoldingEngine(3)], poll=0.01)  # noqa: E731
    report = solve(str(tmp_path / "r"), solve_config(data, successes=m, in_flight=16), pool)
    got = {s.problem.problem_id: (s.stop_at, s.status) for s in report.states}
    assert got == {pid: expected_stop(pid, a, m, 40) for pid, a in ANSWERS.items()}
