"""A verdict's identity includes the options that shape it: resume and the verdict cache key on them."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from monkeys.errors import MonkeysError, RunMismatchError
from monkeys.records import Problem
from monkeys.store.schema import VERDICTS
from monkeys.verifiers.base import VERIFIERS, Verdict
from monkeys.verifiers.stage.cache import VerdictCache
from monkeys.verifiers.stage.runner import verify_run
from tests.test_verify_runner import LastWord, make_run, toy_samples


class Strict(LastWord):
    """A pooled verifier with a verdict-shaping option: `strict` fails answers that are not lower case."""

    name = "t-strict"
    runs_inline = False

    def __init__(self, strict: bool = False, workers: int | None = None) -> None:
        self.strict = strict

    def extract(self, problem: Problem, completion: str) -> str | None:
        words = completion.split()
        return words[-1] if words else None

    def check(self, problem: Problem, completion: str) -> Verdict:
        words = completion.split()
        if not words:
            return Verdict("fail", None, "no answer found")
        x = words[-1]
        ok = (x == problem.reference) if self.strict else (x.lower() == problem.reference)
        return Verdict("pass" if ok else "fail", x, f"strict={self.strict}")


VERIFIERS.add("t-strict", Strict)
REFS = {"p1": "a", "p2": "y"}


def test_other_timeout_is_refused_naming_the_option_and_the_way_on(tmp_path: Path) -> None:
    run = make_run(tmp_path / "r", REFS, toy_samples(), "t-pooled")
    first = verify_run(run, cache=None, workers=1)
    assert first.verified == 10 and first.options == {"timeout": 10.0}
    with pytest.raises(RunMismatchError) as err:
        verify_run(run, cache=None, workers=1, timeout=1.0)
    msg = str(err.value)
    assert "timeout=10.0" in msg and "timeout=1.0" in msg
    assert "--timeout 10" in msg and "--regrade" in msg
    again = verify_run(run, cache=None, workers=1, timeout=10.0)  # the same options resume: all done
    assert (again.already_done, again.verified) == (10, 0)


def test_regrade_grades_every_sample_into_a_new_current_set(tmp_path: Path) -> None:
    run = make_run(tmp_path / "r", REFS, toy_samples(), "t-strict")
    verify_run(run, cache=None, workers=1)
    loose = run.verdicts("t-strict").set_index(["problem_id", "sample_index"])["verdict"]
    assert loose[("p1", 1)] == "pass"  # "A" counts as "a"
    with pytest.raises(RunMismatchError, match="strict=False.*-V strict=False"):
        verify_run(run, None, {"strict": True}, cache=None, workers=1)
    rep = verify_run(run, None, {"strict": True}, cache=None, workers=1, regrade=True)
    assert (rep.already_done, rep.verified) == (0, 10)
    strict = run.verdicts("t-strict").set_index(["problem_id", "sample_index"])
    assert strict.loc[("p1", 1), "verdict"] == "fail" and len(strict) == 10
    assert set(strict["verifier_options"]) == {'{"strict":true,"timeout":10.0}'}
    assert run.manifest["verdict_sets"]["t-strict"]["options"] == {"strict": True, "timeout": 10.0}
    # Back to the first options: they are already graded, and become the current set again.
    back = verify_run(run, None, {"strict": False}, cache=None, workers=1)
    assert (back.already_done, back.verified) == (10, 0)
    assert (
        run.verdicts("t-strict").set_index(["problem_id", "sample_index"]).loc[("p1", 1), "verdict"] == "pass"
    )
    assert run.table("verdicts").num_rows() == 20  # nothing computed is lost


def test_cache_keys_on_options_in_both_directions(tmp_path: Path) -> None:
    cache = VerdictCache(tmp_path / "cache")
    a = verify_run(make_run(tmp_path / "a", REFS, toy_samples(), "t-pooled"), cache=cache, workers=1)
    assert a.cache_hits == 0
    # 10 s verdicts are not reused under a 1 s limit...
    b = verify_run(
        make_run(tmp_path / "b", REFS, toy_samples(), "t-pooled"), cache=cache, workers=1, timeout=1.0
    )
    assert (b.cache_hits, b.checks) == (0, 7)
    # ...nor 1 s verdicts under 10 s; each limit finds its own.
    c = verify_run(make_run(tmp_path / "c", REFS, toy_samples(), "t-pooled"), cache=cache, workers=1)
    d = verify_run(
        make_run(tmp_path / "d", REFS, toy_samples(), "t-pooled"), cache=cache, workers=1, timeout=1.0
    )
    assert (c.cache_hits, c.checks) == (6, 0)
    assert (d.cache_hits, d.checks) == (6, 0)
    e = verify_run(
        make_run(tmp_path / "e", REFS, toy_samples(), "t-strict"),
        None,
        {"strict": True},
        cache=cache,
        workers=1,
    )
    assert e.cache_hits == 0  # another verifier option: another cache key


def _old_shard(run_dir: Path, rows: list[tuple[str, int, str]], name: str, version: str) -> None:
    """Verdict rows as monkeys wrote them before options were recorded (no verifier_options column)."""
    old = pa.schema([f for f in VERDICTS if f.name != "verifier_options"])
    n = len(rows)
    t = pa.table(
        {
            "problem_id": [r[0] for r in rows],
            "sample_index": pa.array([r[1] for r in rows], pa.int64()),
            "verifier": [name] * n,
            "verifier_version": [version] * n,
            "verdict": [r[2] for r in rows],
            "answer": pa.nulls(n, pa.large_string()),
            "detail": pa.array([""] * n, pa.large_string()),
            "seconds": [0.0] * n,
        },
        schema=old,
    )
    (run_dir / "verdicts").mkdir(exist_ok=True)
    pq.write_table(t, run_dir / "verdicts" / "00000000000000000001-old.parquet")


def test_old_run_dirs_read_as_default_options_and_resume(tmp_path: Path) -> None:
    run = make_run(tmp_path / "r", REFS, toy_samples(), "t-pooled")
    _old_shard(run.path, [("p1", i, "pass") for i in range(6)], "t-pooled", "1")
    assert len(run.verdicts("t-pooled")) == 6  # opens, reads the old shard
    with pytest.raises(RunMismatchError, match="timeout=10.0"):
        verify_run(run, cache=None, workers=1, timeout=1.0)
    rep = verify_run(run, cache=None, workers=1)  # the defaults: the old rows count as done
    assert (rep.already_done, rep.verified) == (6, 4)
    v = run.verdicts("t-pooled")
    assert len(v) == 10 and v["verifier_options"].isna().sum() == 6
    assert run.manifest["verdict_sets"]["t-pooled"]["legacy_rows"] is True
    run.table("verdicts")  # compaction keeps old and new rows readable together
    with run.writer("verdicts") as t:
        t.compact()
    assert len(run.verdicts("t-pooled")) == 10


def test_inline_verifiers_record_no_time_limit(tmp_path: Path) -> None:
    run = make_run(tmp_path / "r", REFS, toy_samples())
    rep = verify_run(run, cache=None, timeout=1.0)
    assert rep.options == {}
    assert json.loads(run.verdicts()["verifier_options"].iloc[0]) == {}
    assert verify_run(run, cache=None, timeout=5.0).already_done == 10  # no limit applies: nothing differs


def test_unknown_option_error_is_a_monkeys_error() -> None:
    with pytest.raises(MonkeysError, match="has no option 'loose'; it takes: strict, workers"):
        VERIFIERS.parse_options("t-strict", ["loose=1"], "-V")
    with pytest.raises(MonkeysError, match="strict='maybe' must be true or false"):
        VERIFIERS.parse_options("t-strict", ["strict=maybe"], "-V")
    assert VERIFIERS.parse_options("t-strict", ["strict=yes"], "-V") == {"strict": True}
