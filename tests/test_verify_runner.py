"""The verify runner: dedup, verdict cache, resume, canaries, the killable worker pool and check_batch."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import ClassVar

import pandas as pd
import pytest

from monkeys.errors import MonkeysError
from monkeys.store import Run
from monkeys.store.ingest import samples_table
from monkeys.tasks.base import Problem
from monkeys.verifiers.base import VERIFIERS, ChecksBatch, JudgesEquivalence, Verdict
from monkeys.verifiers.stage.cache import VerdictCache
from monkeys.verifiers.stage.runner import make_verifier, verify_run


# -- test doubles (registered at import, so worker processes that import this module find them too) -----
class LastWord(JudgesEquivalence):
    """Answer = last word of the completion; runs inline and records every check it makes."""

    name = "t-last-word"
    version = "1"
    runs_inline = True
    calls: ClassVar[list[tuple[str, str]]] = []
    gold_override: ClassVar[dict[str, str]] = {}
    empty_passes: ClassVar[bool] = False

    def extract(self, problem: Problem, completion: str) -> str | None:
        words = completion.split()
        return words[-1].lower() if words else None

    def check(self, problem: Problem, completion: str) -> Verdict:
        LastWord.calls.append((problem.problem_id, completion))
        x = self.extract(problem, completion)
        if x is None:
            return Verdict("pass" if LastWord.empty_passes else "fail", None, "no answer found")
        return Verdict("pass" if x == problem.reference else "fail", x, "")

    def gold_completion(self, problem: Problem) -> str:
        return LastWord.gold_override.get(problem.problem_id, f"answer {problem.reference}")

    def same_answer(self, problem: Problem, a: str, b: str) -> bool:
        return a == b


class Hazard(LastWord):
    """Checked in worker processes: "hang" never returns, "crash" segfaults its worker, "raise" raises."""

    name = "t-hazard"
    runs_inline = False

    def check(self, problem: Problem, completion: str) -> Verdict:
        x = self.extract(problem, completion)
        if x == "hang":
            time.sleep(3600)
        if x == "crash":
            os.kill(os.getpid(), signal.SIGSEGV)
        if x == "raise":
            raise RuntimeError("boom")
        return Verdict("pass" if x == problem.reference else "fail", x, "")


class Batched(LastWord, ChecksBatch):
    """Has check_batch: the runner must hand it deduplicated work instead of using its own pool."""

    name = "t-batched"
    runs_inline = False
    batches: ClassVar[list[int]] = []

    def __init__(self, sandbox: str = "bwrap", timeout: float = 1.0) -> None:
        self.sandbox, self.timeout = sandbox, timeout

    def check_batch(self, items: list[tuple[Problem, str]]) -> list[Verdict]:
        Batched.batches.append(len(items))
        return [LastWord.check(self, p, c) for p, c in items]


class Pooled(LastWord):
    """LastWord checked in worker processes, so it goes through the verdict cache."""

    name = "t-pooled"
    runs_inline = False


VERIFIERS.add("t-last-word", LastWord)
VERIFIERS.add("t-pooled", Pooled)
VERIFIERS.add("t-hazard", Hazard)
VERIFIERS.add("t-batched", Batched)


@pytest.fixture(autouse=True)
def _reset() -> None:
    LastWord.calls.clear()
    LastWord.gold_override.clear()
    LastWord.empty_passes = False
    LastWord.version = "1"
    Batched.batches.clear()


def make_run(
    path: Path, references: dict[str, str], samples: list[tuple[str, int, str]], verifier: str = "t-last-word"
) -> Run:
    problems = pd.DataFrame(
        {"problem_id": list(references), "prompt": "", "reference": list(references.values())}
    )
    manifest = {"task": {"name": "toy", "default_verifier": verifier, "options": {}}}
    run = Run.create(path, manifest, problems)
    add_samples(run, samples)
    return run


def add_samples(run: Run, samples: list[tuple[str, int, str]]) -> None:
    pids, idxs, texts = zip(*samples, strict=True)
    with run.writer("samples") as table:
        table.append(samples_table(pids, idxs, texts))


def toy_samples() -> list[tuple[str, int, str]]:
    # p1: 6 samples, 3 distinct answers (a, b, none); p2: 4 samples, 2 distinct
    texts1 = ["so a", "it is A", "maybe b", "so a", "", "   "]
    texts2 = ["x", "y", "then x", "x"]
    return [("p1", i, t) for i, t in enumerate(texts1)] + [("p2", i, t) for i, t in enumerate(texts2)]


def test_dedup_checks_each_distinct_answer_once(tmp_path: Path) -> None:
    run = make_run(tmp_path / "r", {"p1": "a", "p2": "y"}, toy_samples())
    rep = verify_run(run, cache=None)
    # p1 groups: "a" (3), "b", text "" and text "   " (no extract → keyed by text); p2 groups: "x" (3), "y"
    assert rep.distinct == 6
    # canaries: gold "answer a" shares the "a" check; the empty canary shares the "" check
    assert len(LastWord.calls) == 6 + 1  # + p2's empty canary
    v = run.verdicts("t-last-word").set_index(["problem_id", "sample_index"])["verdict"]
    assert v[("p1", 0)] == v[("p1", 1)] == v[("p1", 3)] == "pass"
    assert v[("p1", 2)] == v[("p1", 4)] == v[("p1", 5)] == "fail"
    assert v[("p2", 1)] == "pass" and v[("p2", 0)] == v[("p2", 2)] == v[("p2", 3)] == "fail"
    assert rep.verified == 10


def test_second_run_of_same_task_reuses_cached_verdicts(tmp_path: Path) -> None:
    cache = VerdictCache(tmp_path / "cache")
    refs = {"p1": "a", "p2": "y"}
    first = make_run(tmp_path / "r1", refs, toy_samples(), "t-pooled")
    second = make_run(tmp_path / "r2", refs, toy_samples(), "t-pooled")
    rep1 = verify_run(first, cache=cache, workers=2)
    rep2 = verify_run(second, cache=cache, workers=2)
    assert (rep1.checks, rep1.cache_hits) == (7, 0)  # 6 groups + p2's empty canary
    assert (rep2.checks, rep2.cache_hits) == (0, 6)
    cols = ["problem_id", "sample_index", "verdict", "answer"]
    a = first.verdicts().sort_values(cols[:2])[cols].reset_index(drop=True)
    b = second.verdicts().sort_values(cols[:2])[cols].reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)


def test_cache_does_not_cross_problems_with_other_references(tmp_path: Path) -> None:
    cache = VerdictCache(tmp_path / "cache")
    verify_run(make_run(tmp_path / "r1", {"p1": "a", "p2": "y"}, toy_samples(), "t-pooled"), cache=cache)
    other = make_run(
        tmp_path / "r2", {"p1": "b", "p2": "y"}, toy_samples(), "t-pooled"
    )  # same id, other reference
    rep = verify_run(other, cache=cache)
    assert rep.cache_hits == 2  # only p2's groups
    v = other.verdicts().set_index(["problem_id", "sample_index"])["verdict"]
    assert v[("p1", 2)] == "pass" and v[("p1", 0)] == "fail"


def test_version_bump_invalidates_only_old_version_entries(tmp_path: Path) -> None:
    cache = VerdictCache(tmp_path / "cache")
    refs = {"p1": "a", "p2": "y"}
    verify_run(make_run(tmp_path / "r1", refs, toy_samples(), "t-pooled"), cache=cache)
    LastWord.version = "2"
    rep2 = verify_run(make_run(tmp_path / "r2", refs, toy_samples(), "t-pooled"), cache=cache)
    assert (rep2.cache_hits, rep2.checks) == (0, 7)
    LastWord.version = "1"
    rep3 = verify_run(make_run(tmp_path / "r3", refs, toy_samples(), "t-pooled"), cache=cache)
    assert (rep3.cache_hits, rep3.checks) == (6, 0)


def test_inline_verifiers_skip_the_cache_and_check_the_extract(tmp_path: Path) -> None:
    cache = VerdictCache(tmp_path / "cache")
    verify_run(make_run(tmp_path / "r1", {"p1": "a", "p2": "y"}, toy_samples()), cache=cache)
    rep = verify_run(make_run(tmp_path / "r2", {"p1": "a", "p2": "y"}, toy_samples()), cache=cache)
    assert rep.cache_hits == 0 and rep.checks == 7
    assert cache.get_many("t-last-word", "1", [("p1", "x")]) == {}
    run = make_run(
        tmp_path / "r3", {"0": "18"}, [("0", 0, "#### 18"), ("0", 1, "so 18"), ("0", 2, "#### 17")], "gsm8k"
    )
    verify_run(run, cache=cache)
    v = run.verdicts("gsm8k").set_index("sample_index")
    assert v["verdict"].to_dict() == {0: "pass", 1: "pass", 2: "fail"}
    assert v.loc[2, "detail"] == "expected 18" and v.loc[2, "answer"] == "17"


def test_newer_version_on_same_run_regrades_and_verdicts_shows_newest(tmp_path: Path) -> None:
    run = make_run(tmp_path / "r", {"p1": "a", "p2": "y"}, toy_samples())
    verify_run(run, cache=None)
    LastWord.version = "2"
    rep = verify_run(run, cache=None)
    assert rep.already_done == 0 and rep.verified == 10
    v = run.verdicts("t-last-word")
    assert set(v["verifier_version"]) == {"2"} and len(v) == 10


def test_resume_never_reverifies_finished_samples(tmp_path: Path) -> None:
    run = make_run(tmp_path / "r", {"p1": "a", "p2": "y"}, toy_samples())
    verify_run(run, cache=None)
    add_samples(run, [("p1", 6, "new z"), ("p2", 4, "y")])
    LastWord.calls.clear()
    rep = verify_run(run, cache=None)
    assert rep.already_done == 10 and rep.verified == 2
    checked = {c for _, c in LastWord.calls}
    assert "new z" in checked and "so a" not in checked
    v = run.verdicts("t-last-word")
    assert len(v) == 12 and not v.duplicated(["problem_id", "sample_index"]).any()


def test_pool_turns_hang_crash_and_raise_into_verdicts(tmp_path: Path) -> None:
    samples = [("p1", 0, "hang"), ("p1", 1, "crash"), ("p1", 2, "raise"), ("p1", 3, "ok"), ("p1", 4, "no")]
    samples += [("p2", i, "ok") for i in range(3)]
    run = make_run(tmp_path / "r", {"p1": "ok", "p2": "ok"}, samples, verifier="t-hazard")
    rep = verify_run(run, cache=None, workers=2, timeout=1.5)
    v = run.verdicts("t-hazard").set_index(["problem_id", "sample_index"])
    assert v.loc[("p1", 0), "verdict"] == "timeout"
    assert v.loc[("p1", 1), "verdict"] == "error" and "died" in v.loc[("p1", 1), "detail"]
    assert v.loc[("p1", 2), "verdict"] == "error" and "boom" in v.loc[("p1", 2), "detail"]
    assert v.loc[("p1", 3), "verdict"] == "pass" and v.loc[("p1", 4), "verdict"] == "fail"
    assert (v.loc["p2", "verdict"] == "pass").all()
    assert rep.kills == 2 and len(v) == 8


def test_timeouts_are_not_cached(tmp_path: Path) -> None:
    cache = VerdictCache(tmp_path / "cache")
    samples = [("p1", 0, "hang"), ("p1", 1, "ok")]
    verify_run(
        make_run(tmp_path / "r1", {"p1": "ok"}, samples, "t-hazard"), cache=cache, workers=1, timeout=1.0
    )
    rep = verify_run(
        make_run(tmp_path / "r2", {"p1": "ok"}, samples, "t-hazard"), cache=cache, workers=1, timeout=1.0
    )
    assert rep.cache_hits == 1 and rep.kills == 1


def test_real_sympy_hang_is_killed_at_the_limit(tmp_path: Path) -> None:
    """9^(9^(9^9)) makes SymPy compute a huge integer in C, where no signal can interrupt it."""
    samples = [
        ("p1", 0, "\\boxed{9^{9^{9^{9}}}}"),
        ("p1", 1, "\\boxed{2}"),
        ("p1", 2, "\\boxed{\\frac{4}{2}}"),
    ]
    run = make_run(tmp_path / "r", {"p1": "2"}, samples, verifier="math")
    t0 = time.monotonic()
    rep = verify_run(run, cache=None, workers=2, timeout=2.0)
    assert time.monotonic() - t0 < 60
    v = run.verdicts("math").set_index("sample_index")["verdict"]
    assert v.to_dict() == {0: "timeout", 1: "pass", 2: "pass"}
    assert rep.kills == 1


def test_canaries_refuse_naming_the_problem_whose_gold_fails(tmp_path: Path) -> None:
    # a sample of an unknown problem would get an error verdict, but a refused run writes nothing at all
    run = make_run(tmp_path / "r", {"p1": "a", "p2": "y"}, [*toy_samples(), ("zz", 0, "a")])
    LastWord.gold_override["p2"] = "answer wrong"
    with pytest.raises(MonkeysError, match=r"gold answer does not pass on 1 problem\(s\): p2 \(fail"):
        verify_run(run, cache=None)
    assert run.verdicts().empty


def test_canaries_refuse_when_an_empty_completion_passes(tmp_path: Path) -> None:
    run = make_run(tmp_path / "r", {"p1": "a", "p2": "y"}, toy_samples())
    LastWord.empty_passes = True
    with pytest.raises(MonkeysError, match=r"empty completion does not fail on 2 problem\(s\): p1 .*p2"):
        verify_run(run, cache=None)
    assert run.verdicts().empty


def test_check_batch_receives_deduplicated_work_and_filtered_options(tmp_path: Path) -> None:
    run = make_run(tmp_path / "r", {"p1": "a", "p2": "y"}, toy_samples(), verifier="t-batched")
    rep = verify_run(run, options={"sandbox": "docker", "all_tests": True, "timeout": 3.0}, cache=None)
    assert sum(Batched.batches) == 7  # 6 distinct groups + p2's empty canary
    assert rep.verified == 10


def test_make_verifier_passes_only_options_the_factory_takes() -> None:
    v, chosen = make_verifier(
        "t-batched", {"sandbox": "docker", "all_tests": True, "timeout": 2.0, "workers": None}
    )
    assert chosen == {"sandbox": "docker", "timeout": 2.0}
    assert (v.sandbox, v.timeout) == ("docker", 2.0)  # type: ignore[attr-defined]
    _, none = make_verifier("gsm8k", {"sandbox": "docker", "timeout": 2.0})
    assert none == {}
    with pytest.raises(MonkeysError, match="unknown verifier 'nope'"):
        make_verifier("nope", {})


def test_samples_of_unknown_problems_get_error_verdicts(tmp_path: Path) -> None:
    run = make_run(tmp_path / "r", {"p1": "a"}, [("p1", 0, "a"), ("zz", 0, "a")])
    rep = verify_run(run, cache=None)
    v = run.verdicts().set_index("problem_id")
    assert (
        rep.extract_errors == 1 and v.loc["zz", "verdict"] == "error" and "not among" in v.loc["zz", "detail"]
    )
    assert v.loc["p1", "verdict"] == "pass"


def test_odd_completions_get_verdicts_not_crashes(tmp_path: Path) -> None:
    huge = "x" * 10_000_000 + " \\boxed{2}"
    odd = "bytes \ufffd\ufffd \x00 \\boxed{\udcff"[:-1] + "}"  # replacement chars and a NUL
    samples = [("p1", 0, huge), ("p1", 1, odd), ("p1", 2, "\\boxed{" * 5000), ("p1", 3, "\\boxed{2}")]
    run = make_run(tmp_path / "r", {"p1": "2"}, samples, verifier="math")
    verify_run(run, cache=None, workers=2, timeout=5.0)
    v = run.verdicts("math").set_index("sample_index")["verdict"].to_dict()
    assert v == {0: "pass", 1: "fail", 2: "fail", 3: "pass"}


class Counted(Pooled):
    """Pooled, counting the extractions this (the parent) process makes."""

    name = "t-counted"
    extracts: ClassVar[int] = 0

    def extract(self, problem: Problem, completion: str) -> str | None:
        Counted.extracts += 1
        return super().extract(problem, completion)


VERIFIERS.add("t-counted", Counted)


class InstantPool:
    """Stands in for `CheckPool`: checks each submitted batch at once, in this process, and records how many
    extractions the runner had made when it first got work."""

    def __init__(self) -> None:
        self.verifier = Counted()
        self.pending: list[tuple[object, Verdict]] = []
        self.extracts_at_first_submit: int | None = None
        self.kills = 0

    def submit(self, batches: object) -> None:
        for b in batches:  # type: ignore[attr-defined]
            if self.extracts_at_first_submit is None:
                self.extracts_at_first_submit = Counted.extracts
            for key, text in b.items:
                self.pending.append((key, LastWord.check(self.verifier, b.problem, text)))

    @property
    def busy(self) -> bool:
        return bool(self.pending)

    def step(self, timeout: float | None = None) -> list[tuple[object, Verdict]]:
        out, self.pending = self.pending, []
        return out

    def close(self) -> None: ...


def test_pooled_checks_start_while_extraction_is_still_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from concurrent.futures import Future

    from monkeys.verifiers.stage import runner

    pool = InstantPool()

    def start(self: object) -> Future[InstantPool]:
        done: Future[InstantPool] = Future()
        done.set_result(pool)
        return done

    monkeypatch.setattr(runner._Flow, "start_pool", start)
    Counted.extracts = 0
    # 3 problems x 1,000 samples, 50 distinct answers each, so groups get members across many ticks
    refs = {"p0": "w0", "p1": "w1", "p2": "w2"}
    samples = [(p, i, f"try w{i % 50}") for p in refs for i in range(1000)]
    run = make_run(tmp_path / "r", refs, samples, "t-counted")
    rep = verify_run(run, cache=None, workers=2)
    assert pool.extracts_at_first_submit is not None and pool.extracts_at_first_submit < 1000
    assert rep.verified == 3000 and rep.distinct == 150 and rep.checks == 150 + 3  # + the empty canaries
    v = run.verdicts("t-counted")
    assert len(v) == 3000 and not v.duplicated(["problem_id", "sample_index"]).any()
    want = {(p, i): "pass" if f"w{i % 50}" == refs[p] else "fail" for p, i, _ in samples}
    got = dict(zip(zip(v["problem_id"], v["sample_index"], strict=True), v["verdict"], strict=True))
    assert got == want


def test_pooled_verdicts_are_not_cached_when_the_canaries_refuse(tmp_path: Path) -> None:
    import sqlite3

    cache = VerdictCache(tmp_path / "cache")
    samples = [("p1", i, f"so w{i % 40}") for i in range(2000)] + [("p2", 0, "so y")]
    run = make_run(tmp_path / "r", {"p1": "w0", "p2": "y"}, samples, "t-pooled")
    LastWord.gold_override["p2"] = "answer wrong"  # the parent makes the canary's text; a worker checks it
    with pytest.raises(MonkeysError, match=r"gold answer does not pass on 1 problem\(s\): p2"):
        verify_run(run, cache=cache, workers=2)
    assert run.verdicts().empty
    assert cache.path is not None
    with sqlite3.connect(cache.path) as db:
        assert db.execute("SELECT COUNT(*) FROM verdicts").fetchone() == (0,)
