"""The work-unit scheduler: replicas pull units, dead and hung replicas give theirs back, one writer."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from monkeys.errors import MonkeysError
from monkeys.sampler.base import Completion, Request, SamplingParams
from monkeys.sampler.loop import SampleConfig, sample
from monkeys.sampler.scheduler import ReplicaPool
from monkeys.store import Run
from monkeys.tasks import TaskOptions
from tests.fakes import FakeEngine

PARAMS = SamplingParams()


def requests(problems: int = 5, chunks: int = 4, n: int = 4) -> list[Request]:
    return [Request(str(p), "q", c * n, n, 1000 * p + c * n) for p in range(problems) for c in range(chunks)]


class HangingEngine(FakeEngine):
    """Takes one unit and never answers (a stuck GPU, a wedged server) until released."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def generate(self, requests: Iterable[Request], params: SamplingParams) -> Iterator[Completion]:
        for req in requests:
            self.requests.append(req)
            self.release.wait()
            return
        yield from ()


class SlowEngine(FakeEngine):
    def generate(self, requests: Iterable[Request], params: SamplingParams) -> Iterator[Completion]:
        for c in super().generate(requests, params):
            time.sleep(0.02)
            yield c


def keys(out: list[Completion]) -> list[tuple[str, int]]:
    return sorted((c.request.problem_id, c.request.start_index) for c in out)


def test_every_unit_comes_back_exactly_once_from_several_replicas() -> None:
    engines = [FakeEngine(), FakeEngine(), FakeEngine()]
    out = list(ReplicaPool(engines).generate(requests(), PARAMS))
    assert keys(out) == keys([Completion(r, (), 0, (), (), ()) for r in requests()])
    assert sum(len(e.requests) for e in engines) == 20


def test_fast_replicas_take_more_units() -> None:
    fast, slow = FakeEngine(), SlowEngine()
    out = list(ReplicaPool([slow, fast]).generate(requests(10, 4), PARAMS))
    assert len(out) == 40
    assert len(fast.requests) > 3 * len(slow.requests)


def test_units_of_a_dead_replica_are_requeued_to_the_others() -> None:
    dying, healthy = FakeEngine(fail_after=2), FakeEngine()
    pool = ReplicaPool([dying, healthy])
    out = list(pool.generate(requests(), PARAMS))
    assert len(out) == 20 and len(set(keys(out))) == 20
    assert pool.replicas[0].alive is False and "engine died" in (pool.replicas[0].error or "")
    # the dead replica's texts are those the seed fixes, whichever replica made them
    for c in out:
        assert c.texts[0].startswith(f"sample seed={c.request.seed} ")


def test_hung_replica_is_timed_out_and_its_late_answer_dropped() -> None:
    hanging, healthy = HangingEngine(), FakeEngine()
    pool = ReplicaPool([hanging, healthy], hang_timeout=0.5, poll=0.05)
    out = list(pool.generate(requests(2, 2), PARAMS))
    hanging.release.set()
    assert len(set(keys(out))) == 4 == len(out)
    assert pool.replicas[0].alive is False and "hung" in (pool.replicas[0].error or "")
    assert pool.requeued == 1
    assert hanging.requests[0] in healthy.requests  # the hung unit was redone elsewhere


def test_all_replicas_dead_raises_after_yielding_what_finished() -> None:
    pool = ReplicaPool([FakeEngine(fail_after=1), FakeEngine(fail_after=2)])
    got: list[Completion] = []
    with pytest.raises(RuntimeError, match="every replica failed"):
        for c in pool.generate(requests(), PARAMS):
            got.append(c)
    assert len(got) == 3


def test_sampling_through_a_pool_with_a_dying_replica_resumes_to_exactly_k(
    tmp_path: Path, data_dir: str
) -> None:
    config = SampleConfig(
        task="gsm8k",
        task_options=TaskOptions(data_dir=data_dir, limit=3),
        model="fake-model",
        k=10,
        chunk_size=4,
        sampling=SamplingParams(stop=("\nQuestion:",)),
        engine="fake",
    )
    # both replicas die part-way: the run keeps what finished, a rerun fills exactly the gaps
    with pytest.raises(MonkeysError, match="rerun the same command"):
        sample(str(tmp_path / "r"), config, lambda: ReplicaPool([FakeEngine(1), FakeEngine(2)]))
    assert len(Run.open(tmp_path / "r").samples()) < 30
    report = sample(str(tmp_path / "r"), config, lambda: ReplicaPool([FakeEngine(2), FakeEngine()]))
    df = report.run.samples()
    assert len(df) == 30 and not df.duplicated(["problem_id", "sample_index"]).any()
    assert df.groupby("problem_id").size().tolist() == [10, 10, 10]
    whole = sample(str(tmp_path / "w"), config, FakeEngine).run.samples()
    cols = ["problem_id", "sample_index", "text", "seed"]
    a = df[cols].sort_values(cols[:2]).reset_index(drop=True)
    assert a.equals(whole[cols].sort_values(cols[:2]).reset_index(drop=True))
    assert report.run.manifest["engine"]["settings"]["replicas"] == 2


def test_replica_flags_that_do_not_fit_are_refused_in_one_line() -> None:
    from monkeys.sampler.replicas import engine_factory

    with pytest.raises(MonkeysError, match="--base-url is for --engine openai"):
        engine_factory("vllm", None, ["http://h1:8000/v1"])
    with pytest.raises(MonkeysError, match="--ray runs vLLM engines"):
        engine_factory("openai", None, ray_address="auto")
    with pytest.raises(MonkeysError, match="--replicas needs --ray"):
        engine_factory("vllm", None, replicas=2)


def test_several_base_urls_make_a_pool_of_openai_engines() -> None:
    from monkeys.sampler.replicas import engine_factory

    pool = engine_factory("openai", "m", ["http://127.0.0.1:1/v1", "http://127.0.0.1:2/v1"])()
    try:
        assert isinstance(pool, ReplicaPool)
        settings = pool.describe()["settings"]
        assert settings["replicas"] == 2
        assert settings["base_url"] == ["http://127.0.0.1:1/v1", "http://127.0.0.1:2/v1"]
    finally:
        pool.close()
