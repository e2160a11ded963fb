from __future__ import annotations

from pathlib import Path

import pytest

from monkeys.errors import MonkeysError
from monkeys.sampler.base import SamplingParams
from monkeys.sampler.loop import SampleConfig, sample
from monkeys.sampler.schedule import seed_base
from monkeys.store import Run
from monkeys.tasks import TaskOptions
from tests.fakes import FakeEngine


def config(data_dir: str, k: int = 10, **kw: object) -> SampleConfig:
    opts = TaskOptions(data_dir=data_dir, limit=kw.pop("limit", 3))  # type: ignore[arg-type]
    return SampleConfig(
        task="gsm8k",
        task_options=opts,
        model="fake-model",
        k=k,
        chunk_size=4,
        sampling=SamplingParams(stop=("\nQuestion:",)),
        engine="fake",
        **kw,
    )  # type: ignore[arg-type]


def test_sample_stores_k_per_problem_with_per_sample_seeds(tmp_path: Path, data_dir: str) -> None:
    engine = FakeEngine()
    report = sample(str(tmp_path / "r"), config(data_dir), lambda: engine)
    assert report.total == 30 and report.stored == 30 and engine.closed
    df = report.run.samples()
    assert df.groupby("problem_id").size().to_dict() == {"0": 10, "1": 10, "2": 10}
    for pid, g in df.groupby("problem_id"):
        base = seed_base(0, pid)
        for idx, text in zip(g["sample_index"], g["text"], strict=True):
            assert text.startswith(f"sample seed={base + idx} ")
        # the engine's cached-prompt count is stored on every sample of its request
        assert g["cached_prompt_tokens"].tolist() == [0 if i < 4 else 8 for i in g["sample_index"]]
    m = report.run.manifest
    assert m["k"] == 10 and m["task"]["default_verifier"] == "gsm8k" and m["engine"]["name"] == "fake"
    assert m["sampling"]["temperature"] == 0.6 and m["chunk_size"] == 4


def test_rerun_of_complete_run_does_not_start_engine(tmp_path: Path, data_dir: str) -> None:
    sample(str(tmp_path / "r"), config(data_dir), FakeEngine)

    def boom() -> FakeEngine:
        raise AssertionError("engine started for a complete run")

    report = sample(str(tmp_path / "r"), config(data_dir), boom)
    assert report.stored == 0 and report.total == 30


def test_engine_failure_keeps_finished_chunks_and_resume_completes_them(
    tmp_path: Path, data_dir: str
) -> None:
    with pytest.raises(MonkeysError, match="rerun the same command"):
        sample(str(tmp_path / "r"), config(data_dir), lambda: FakeEngine(fail_after=4))
    run = Run.open(tmp_path / "r")
    before = run.samples()
    assert (
        len(before) == 14
    )  # 4 whole requests (4 + 4 + 2 of problem 0, 4 of problem 1), flushed on the way out
    second = FakeEngine()
    report = sample(str(tmp_path / "r"), config(data_dir), lambda: second)
    assert report.stored == 16
    assert all(
        r.problem_id != "0" and not (r.problem_id == "1" and r.start_index == 0) for r in second.requests
    )
    after = report.run.samples()
    assert len(after) == 30 and not after.duplicated(["problem_id", "sample_index"]).any()
    merged = after.merge(before, on=["problem_id", "sample_index"], suffixes=("", "_old"))
    assert (merged["text"] == merged["text_old"]).all()


def test_resume_equals_uninterrupted_run(tmp_path: Path, data_dir: str) -> None:
    sample(str(tmp_path / "whole"), config(data_dir), FakeEngine)
    with pytest.raises(MonkeysError):
        sample(str(tmp_path / "split"), config(data_dir), lambda: FakeEngine(fail_after=3))
    sample(str(tmp_path / "split"), config(data_dir), FakeEngine)
    a = (
        Run.open(tmp_path / "whole")
        .samples()
        .sort_values(["problem_id", "sample_index"])
        .reset_index(drop=True)
    )
    b = (
        Run.open(tmp_path / "split")
        .samples()
        .sort_values(["problem_id", "sample_index"])
        .reset_index(drop=True)
    )
    assert a.equals(b)


def test_different_settings_are_refused_not_overwritten(tmp_path: Path, data_dir: str) -> None:
    sample(str(tmp_path / "r"), config(data_dir), FakeEngine)
    changed = SampleConfig(
        **{**config(data_dir).__dict__, "sampling": SamplingParams(temperature=1.0, stop=("\nQuestion:",))}
    )
    with pytest.raises(MonkeysError, match=r"sampling.temperature was 0.6, the command asks for 1.0"):
        sample(str(tmp_path / "r"), changed, FakeEngine)
    with pytest.raises(MonkeysError, match="task.options.limit was 3, the command asks for 2"):
        sample(str(tmp_path / "r"), config(data_dir, limit=2), FakeEngine)
    assert len(Run.open(tmp_path / "r").samples()) == 30


def test_growing_k_extends_the_run(tmp_path: Path, data_dir: str) -> None:
    sample(str(tmp_path / "r"), config(data_dir, k=6), FakeEngine)
    engine = FakeEngine()
    report = sample(str(tmp_path / "r"), config(data_dir, k=10), lambda: engine)
    assert report.stored == 12 and report.run.manifest["k"] == 10
    assert [(r.start_index, r.n) for r in engine.requests[:2]] == [(6, 2), (8, 2)]


def test_k_below_one_is_refused(tmp_path: Path, data_dir: str) -> None:
    with pytest.raises(MonkeysError, match="-k must be at least 1"):
        sample(str(tmp_path / "r"), config(data_dir, k=0), FakeEngine)
