from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from monkeys.errors import MonkeysError
from monkeys.store import Run
from monkeys.store.schema import SAMPLES
from monkeys.store.shards import TMP_PREFIX


def make_run(tmp_path: Path) -> Run:
    problems = pd.DataFrame({"problem_id": ["a", "b"], "prompt": ["p1", "p2"], "reference": ["1", "2"]})
    return Run.create(tmp_path / "run", {"task": {"name": "t"}, "k": 4}, problems)


def rows(pid: str, start: int, n: int) -> pa.Table:
    return pa.Table.from_pydict(
        {
            "problem_id": [pid] * n,
            "sample_index": list(range(start, start + n)),
            "text": [f"{pid}{i}" for i in range(start, start + n)],
            "prompt_tokens": [3] * n,
            "completion_tokens": [2] * n,
            "finish_reason": ["stop"] * n,
            "cumulative_logprob": [None] * n,
            "seed": [7] * n,
            "cached_prompt_tokens": [None] * n,
        },
        schema=SAMPLES,
    )


def test_create_open_roundtrip_keeps_manifest_and_problems(tmp_path: Path) -> None:
    run = make_run(tmp_path)
    again = Run.open(run.path)
    assert again.manifest["task"] == {"name": "t"}
    assert again.manifest["format"] == 1 and "created" in again.manifest
    assert again.problems()["problem_id"].tolist() == ["a", "b"]


def test_create_refuses_existing_run(tmp_path: Path) -> None:
    make_run(tmp_path)
    with pytest.raises(MonkeysError, match="already holds a run"):
        make_run(tmp_path)


def test_open_non_run_is_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(MonkeysError, match="not a run directory"):
        Run.open(tmp_path)


def test_unwritable_run_dir_is_clear_error(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        target = Path("/proc/monkeys-cannot-write-here")
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        target = locked / "run"
    with pytest.raises(MonkeysError, match="cannot write run directory"):
        Run.create(target, {}, pd.DataFrame({"problem_id": ["a"]}))


def test_append_and_column_projection(tmp_path: Path) -> None:
    run = make_run(tmp_path)
    with run.writer("samples") as t:
        t.append(rows("a", 0, 2))
        t.append(rows("b", 0, 3))
    df = run.samples(columns=["problem_id", "sample_index"])
    assert list(df.columns) == ["problem_id", "sample_index"]
    assert len(df) == 5
    full = run.samples()
    assert list(full.columns) == SAMPLES.names
    assert sorted(full["text"]) == ["a0", "a1", "b0", "b1", "b2"]
    assert {k: v.tolist() for k, v in run.stored_indices().items()} == {"a": [0, 1], "b": [0, 1, 2]}


def test_second_writer_is_refused(tmp_path: Path) -> None:
    run = make_run(tmp_path)
    with run.writer("samples"), pytest.raises(MonkeysError, match="being written"), run.writer("samples"):
        pass


def test_temporaries_of_killed_writer_are_ignored_and_removed(tmp_path: Path) -> None:
    run = make_run(tmp_path)
    with run.writer("samples") as t:
        t.append(rows("a", 0, 2))
    half = run.path / "samples" / f"{TMP_PREFIX}123.parquet"
    half.write_bytes(b"PAR1 half written")
    assert run.num_samples() == 2
    with run.writer("samples"):
        pass
    assert not half.exists()


def test_corrupt_shard_is_skipped_with_warning_and_quarantined(tmp_path: Path) -> None:
    run = make_run(tmp_path)
    with run.writer("samples") as t:
        t.append(rows("a", 0, 2))
        bad = t.append(rows("b", 0, 2))
    assert bad is not None
    bad.write_bytes(bad.read_bytes()[:40])  # truncate: footer gone
    with pytest.warns(UserWarning, match="corrupt shard"):
        assert run.stored_indices().keys() == {"a"}
    with pytest.warns(UserWarning), run.writer("samples"):
        pass
    assert Path(str(bad) + ".corrupt").exists() and not bad.exists()


def test_compaction_keeps_every_row_once(tmp_path: Path) -> None:
    run = make_run(tmp_path)
    with run.writer("samples") as t:
        for i in range(5):
            t.append(rows("a", 2 * i, 2))
        replaced = t.compact()
    assert replaced == 5
    assert len(list((run.path / "samples").glob("*.parquet"))) == 1
    assert sorted(run.samples()["sample_index"]) == list(range(10))


def test_reader_ignores_shards_a_compaction_replaced(tmp_path: Path) -> None:
    """A kill between writing the merged shard and deleting its sources must not duplicate rows."""
    run = make_run(tmp_path)
    with run.writer("samples") as t:
        a = t.append(rows("a", 0, 2))
        b = t.append(rows("a", 2, 2))
    assert a and b
    keep = {p: p.read_bytes() for p in (a, b)}
    with run.writer("samples") as t:
        t.compact()
    for p, data in keep.items():  # resurrect the sources, as if the kill came before their deletion
        p.write_bytes(data)
    assert sorted(run.samples()["sample_index"]) == [0, 1, 2, 3]


def test_manifest_update_is_atomic_and_stamped(tmp_path: Path) -> None:
    run = make_run(tmp_path)
    before = run.manifest["updated"]
    m = run.update_manifest(k=8)
    assert m["k"] == 8 and json.loads((run.path / "manifest.json").read_text())["k"] == 8
    assert m["updated"] >= before
    assert not list(run.path.glob(f"{TMP_PREFIX}*"))


def test_kill_during_appends_never_leaves_partial_rows(tmp_path: Path) -> None:
    """SIGKILL a writer mid-stream: every visible shard is whole, and rows are exactly whole appends."""
    run = make_run(tmp_path)
    script = textwrap.dedent(
        f"""
        import pyarrow as pa, os, signal
        from monkeys.store import Run
        from monkeys.store.schema import SAMPLES
        run = Run.open({str(run.path)!r})
        with run.writer("samples") as t:
            for i in range(100000):
                n = 1000
                t.append(pa.Table.from_pydict({{
                    "problem_id": ["a"] * n, "sample_index": list(range(i * n, i * n + n)),
                    "text": ["x" * 200] * n, "prompt_tokens": [1] * n, "completion_tokens": [1] * n,
                    "finish_reason": ["stop"] * n, "cumulative_logprob": [0.0] * n, "seed": [i] * n,
                    "cached_prompt_tokens": [None] * n}}, schema=SAMPLES))
                if i == 30:
                    os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True)
    assert proc.returncode == -9
    df = run.samples(columns=["sample_index", "seed"])
    assert len(df) % 1000 == 0 and len(df) >= 30_000
    assert df["sample_index"].is_unique
    assert (df.groupby("seed").size() == 1000).all()


def test_shards_from_before_cached_prompt_tokens_read_as_null_and_compact_with_new_ones(
    tmp_path: Path,
) -> None:
    """A run directory written before the samples table had `cached_prompt_tokens` opens unchanged."""
    run = make_run(tmp_path)
    old_schema = pa.schema([f for f in SAMPLES if f.name != "cached_prompt_tokens"])
    old = rows("a", 0, 2).select(old_schema.names).cast(old_schema)
    (run.path / "samples").mkdir(exist_ok=True)
    pq.write_table(old, run.path / "samples" / "00000000000000000001-0ldshard.parquet")
    before = Run.open(run.path).samples()
    assert list(before.columns) == SAMPLES.names
    assert before["cached_prompt_tokens"].isna().all() and before["text"].tolist() == ["a0", "a1"]
    with run.writer("samples") as t:
        t.append(rows("b", 0, 2).set_column(8, "cached_prompt_tokens", pa.array([0, 3], pa.int32())))
        assert t.compact() == 2
    df = run.samples().sort_values(["problem_id", "sample_index"])
    assert df["cached_prompt_tokens"].iloc[:2].isna().all()
    assert df["cached_prompt_tokens"].iloc[2:].tolist() == [0, 3]
    assert len(list((run.path / "samples").glob("*.parquet"))) == 1
