"""The score stage on small runs: stored logprobs, dedup, resume, SIGKILL mid-run, the shared cache, old
runs' score shards, vanished samples, and the one-line errors of bad scorer input."""

from __future__ import annotations

import math
import os
import signal
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from monkeys.analysis.selection import Votes, auroc, scorer_as_verifier
from monkeys.errors import MonkeysError
from monkeys.scorers import SCORERS, ScoreItem, Scorer
from monkeys.scorers.base import identity
from monkeys.scorers.cache import ScoreCache
from monkeys.scorers.logprob import LogprobScorer
from monkeys.scorers.stage import score_run
from monkeys.store import Run
from monkeys.store.schema import SAMPLES, VERDICTS

# texts repeat within a problem (dedup) and across problems (not merged: the problem differs)
TEXTS = {"a": ["x", "y", "x", "zz", "x", "y"], "b": ["x", "w", "w", "v", "u", "t"]}


def make_run(path: Path, texts: dict[str, list[str]] = TEXTS, logprobs: bool = True) -> Run:
    problems = pd.DataFrame(
        {"problem_id": list(texts), "prompt": [f"q {p}" for p in texts], "reference": ["1"] * len(texts)}
    )
    run = Run.create(
        path, {"task": {"name": "t", "default_verifier": "gsm8k"}, "model": "m", "k": 6}, problems
    )
    cols: dict[str, list] = {c: [] for c in SAMPLES.names}
    for pid, ts in texts.items():
        for i, t in enumerate(ts):
            cols["problem_id"].append(pid)
            cols["sample_index"].append(i)
            cols["text"].append(t)
            cols["prompt_tokens"].append(3)
            cols["completion_tokens"].append(len(t))
            cols["finish_reason"].append("stop")
            cols["cumulative_logprob"].append(-1.5 * len(t) - (pid == "b") if logprobs else None)
            cols["seed"].append(0)
            cols["cached_prompt_tokens"].append(None)
    with run.writer("samples") as t:
        t.append(pa.Table.from_pydict(cols, schema=SAMPLES))
    return run


class CountingScorer(Scorer):
    """The seam's whole contract: name, version, model, options and `score`; counts what it is asked."""

    name = "count"
    version = "1"
    model = ""

    def __init__(self, kill_at_call: int | None = None) -> None:
        self.options = {"unit": "chars"}
        self.calls = 0
        self.seen: list[str] = []
        self.kill_at_call = kill_at_call

    def score(self, items: Sequence[ScoreItem]) -> list[float]:
        self.calls += 1
        if self.calls == self.kill_at_call:
            os.kill(os.getpid(), signal.SIGKILL)
        self.seen += [it.text for it in items]
        return [float(len(it.text)) + (0.5 if it.problem.problem_id == "b" else 0.0) for it in items]


def stored(run: Run, name: str) -> dict[tuple[str, int], float]:
    s = run.scores(name)
    return dict(zip(zip(s["problem_id"], s["sample_index"], strict=True), s["score"], strict=True))


def test_logprob_scores_come_from_stored_logprobs_and_are_stored_with_their_identity(tmp_path):
    run = make_run(tmp_path / "r")
    rep = score_run(run, LogprobScorer(model="m"))
    assert (rep.samples, rep.scored, rep.already_done) == (12, 12, 0)
    got = stored(run, "logprob")
    assert got[("a", 3)] == pytest.approx(-1.5)  # -3 over 2 tokens
    assert got[("b", 1)] == pytest.approx(-2.5)
    rows = run.table("scores").read().to_pandas()
    assert set(rows["model"]) == {"m"} and set(rows["options"]) == {'{"reduce": "mean"}'}
    total = score_run(run, LogprobScorer(model="m", reduce="sum"), name="logprob_sum")
    assert total.scored == 12 and stored(run, "logprob_sum")[("a", 3)] == pytest.approx(-3.0)


def test_dedup_scores_each_problem_text_once_and_fans_out(tmp_path):
    run = make_run(tmp_path / "r")
    s = CountingScorer()
    rep = score_run(run, s, cache=None, batch_size=3)
    assert rep.distinct == 3 + 5 and sorted(s.seen) == sorted(["x", "y", "zz", "x", "w", "v", "u", "t"])
    got = stored(run, "count")
    assert got[("a", 0)] == got[("a", 2)] == got[("a", 4)] == 1.0 and got[("b", 0)] == 1.5
    assert len(got) == 12


def test_rerun_resumes_and_a_new_identity_rescores(tmp_path):
    run = make_run(tmp_path / "r")
    score_run(run, CountingScorer())
    again = CountingScorer()
    rep = score_run(run, again)
    assert (rep.already_done, rep.scored, again.calls) == (12, 0, 0)
    changed = CountingScorer()
    changed.options = {"unit": "bytes"}
    rep = score_run(run, changed)
    assert rep.scored == 12 and len(run.scores("count")) == 12  # newest identity only, one row per sample
    assert set(run.scores("count")["options"]) == {'{"unit": "bytes"}'}


def test_sigkill_mid_score_then_resume_loses_and_duplicates_nothing(tmp_path):
    run = make_run(tmp_path / "r")
    pid = os.fork()
    if pid == 0:  # the child is killed by its scorer at its third call, after two flushed batches
        try:
            score_run(run, CountingScorer(kill_at_call=3), batch_size=2, flush_seconds=0.0)
        finally:
            os._exit(3)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    before = run.table("scores").read().to_pandas()
    assert 0 < len(before) < 12  # two batches of two groups, fanned out
    resumed = CountingScorer()
    rep = score_run(run, resumed, batch_size=2)
    assert rep.already_done == len(before) and rep.already_done + rep.scored == 12
    after = run.table("scores").read().to_pandas()
    assert not after.duplicated(["problem_id", "sample_index"]).any() and len(after) == 12
    fresh = make_run(tmp_path / "fresh")
    score_run(fresh, CountingScorer())
    assert stored(run, "count") == stored(fresh, "count")


def test_cache_serves_a_second_run_of_the_same_texts_without_scoring(tmp_path):
    cache = ScoreCache(tmp_path / "cache")
    first = CountingScorer()
    score_run(make_run(tmp_path / "r1"), first, cache=cache)
    second = CountingScorer()
    other = make_run(tmp_path / "r2")
    rep = score_run(other, second, cache=cache)
    assert (rep.cache_hits, rep.computed, second.calls) == (8, 0, 0)
    assert stored(other, "count")[("b", 0)] == 1.5
    changed = make_run(tmp_path / "r4", {"a": ["x", "new"], "b": ["x", "w"]})
    third = CountingScorer()
    rep = score_run(changed, third, cache=cache)
    assert (rep.cache_hits, rep.computed, third.seen) == (3, 1, ["new"])


def test_score_shards_of_old_runs_read_without_model_and_options(tmp_path):
    run = make_run(tmp_path / "r")
    old = pa.schema([f for f in run.table("scores").schema if f.name not in ("model", "options")])
    (run.path / "scores").mkdir()
    table = pa.Table.from_pydict(
        {
            "problem_id": ["a"],
            "sample_index": [0],
            "scorer": ["old"],
            "scorer_version": ["0"],
            "score": [0.25],
        },
        schema=old,
    )
    pq.write_table(table, run.path / "scores" / "00000000000000000001-old.parquet")
    got = run.scores("old")
    assert got["score"].tolist() == [0.25] and got["model"].tolist() == [""]
    score_run(run, CountingScorer())  # appends new-format shards beside the old one and compacts them
    assert len(run.table("scores").read()) == 13 and run.scores("old")["score"].tolist() == [0.25]


def test_scores_of_vanished_samples_are_a_one_line_error(tmp_path):
    run = make_run(tmp_path / "r")
    score_run(run, CountingScorer())
    for p in (run.path / "samples").glob("*.parquet"):
        t = pq.read_table(p)
        pq.write_table(t.slice(0, 10), p)  # two samples of b vanish
    with pytest.raises(
        MonkeysError, match=r"2 stored scores of 'count' belong to samples the run no longer holds"
    ):
        score_run(run, CountingScorer())
    from monkeys.analysis.votes import run_votes

    with run.writer("verdicts") as t:
        t.append(verdicts_for(run))
    with pytest.raises(MonkeysError, match="no longer holds"):
        run_votes(run)


def verdicts_for(run: Run) -> pa.Table:
    s = run.samples(["problem_id", "sample_index", "text"])
    n = len(s)
    return pa.Table.from_pydict(
        {
            "problem_id": s["problem_id"].tolist(),
            "sample_index": s["sample_index"].tolist(),
            "verifier": ["gsm8k"] * n,
            "verifier_version": ["1"] * n,
            "verdict": ["pass" if t in ("x", "w") else "fail" for t in s["text"]],
            "answer": s["text"].tolist(),
            "detail": [""] * n,
            "seconds": [0.0] * n,
            "verifier_options": [None] * n,
        },
        schema=VERDICTS,
    )


def test_select_score_that_was_never_computed_is_a_one_line_error(tmp_path):
    from monkeys.analysis.votes import require_score, run_votes, score_quality

    run = make_run(tmp_path / "r")
    with run.writer("verdicts") as t:
        t.append(verdicts_for(run))
    score_run(run, CountingScorer())
    _, info = run_votes(run)
    require_score(info, "count", run)
    with pytest.raises(
        MonkeysError, match=r"has no score 'reward' \(it has: count, mean_logprob\); compute it"
    ):
        require_score(info, "reward", run)
    q = score_quality(run, "count")
    # count = text length: right answers (x, w: length 1) score lowest, so AUROC is low but not 0 (ties)
    assert q is not None and q["verifier"] == "gsm8k" and 0 <= q["auroc"] < 0.5


def brute_auroc(s: np.ndarray, c: np.ndarray) -> float:
    pos, neg = s[c], s[~c]
    return float(np.mean([(p > n) + 0.5 * (p == n) for p in pos for n in neg]))


@pytest.mark.parametrize("seed", range(5))
def test_auroc_equals_its_pairwise_definition_with_ties(seed):
    rng = np.random.default_rng(seed)
    s = rng.integers(0, 5, 40).astype(float)
    c = rng.random(40) < 0.4
    assert auroc(s, c) == pytest.approx(brute_auroc(s, c), abs=1e-12)
    assert auroc(s, np.zeros(40, bool)) is None


def test_scorer_as_verifier_top1_is_best_of_all_samples():
    v1 = Votes("p", np.array([0, 1, 2]), np.array([True, False, False]), {"s": np.array([0.9, 0.1, 0.9])})
    v2 = Votes("q", np.array([0, 0]), np.array([True, True]), {"s": np.array([0.2, 0.3])})
    q = scorer_as_verifier([v1, v2], "s")
    assert q["top1_precision"] == pytest.approx((0.5 + 1.0) / 2)
    assert q["problems_mixed"] == 1 and q["auroc_within"] == pytest.approx(0.75)


def test_identity_holds_name_version_model_and_sorted_options():
    s = LogprobScorer(model="m", reduce="sum")
    assert identity(s) == {
        "scorer": "logprob",
        "scorer_version": "1",
        "model": "m",
        "options": '{"reduce": "sum"}',
    }
    assert {"reward", "judge", "logprob"} <= set(SCORERS.names())
    with pytest.raises(MonkeysError, match="unknown scorer 'nope'; choose one of: judge, logprob, reward"):
        SCORERS.factory("nope")


def test_logprob_without_stored_logprobs_or_a_model_says_pass_model(tmp_path):
    run = make_run(tmp_path / "r", logprobs=False)
    with pytest.raises(MonkeysError, match="pass --model"):
        score_run(run, LogprobScorer(model="unknown (imported)"))
    assert run.table("scores").read().num_rows == 0
    assert math.isinf(LogprobScorer(model="m").score([ScoreItem(None, "", 0.0, 0)])[0])  # type: ignore[arg-type]


def test_reward_on_a_model_that_is_not_a_classifier_is_a_one_line_error():
    from monkeys.scorers.reward import RewardScorer

    with pytest.raises(MonkeysError, match=r"is a LlamaForCausalLM, not a sequence classifier"):
        RewardScorer(model="embedded")


def test_judge_words_that_are_not_single_tokens_are_a_one_line_error():
    from monkeys.scorers.judge import JudgeScorer

    with pytest.raises(MonkeysError, match=r"has no single token for ' affirmatively'"):
        JudgeScorer(model="embedded", yes=" affirmatively")
    with pytest.raises(MonkeysError, match=r"must contain \{question\} and \{answer\}"):
        JudgeScorer(model="embedded", template="Is {answer} right?")


def test_shared_prefix_leaves_every_exchange_its_last_token():
    from monkeys.scorers.reward import shared_prefix

    assert shared_prefix([[1, 2, 3, 4], [1, 2, 5], [1, 2, 3]]) == 2
    assert shared_prefix([[1, 2, 3], [1, 2, 3]]) == 2  # identical: the last token is still computed
    assert shared_prefix([[7], [7, 8]]) == 0
    assert shared_prefix([[1, 2], [3, 4]]) == 0


def test_judge_reads_exact_server_logprobs_by_id_and_falls_back_to_top_tokens_by_text():
    from monkeys.scorers.judge import JudgeScorer

    j = JudgeScorer(model="embedded", engine="openai", base_url="http://127.0.0.1:9/v1")
    y, n = f"token_id:{j.yes_id}", f"token_id:{j.no_id}"
    assert j._from_top({y: math.log(0.3), n: math.log(0.1), "token_id:5": -0.1}) == pytest.approx(0.75)
    # a server without vLLM's extension: its top tokens by text, a word outside them has probability 0
    assert j._from_top({" yes": math.log(0.2), " no": math.log(0.6)}) == pytest.approx(0.25)
    assert j._from_top({" no": -0.5, " maybe": -1.0}) == 0.0
    assert math.isnan(j._from_top({" maybe": -1.0})) and j.unscored == 1


def test_score_command_bad_input_is_one_line_and_exit_2(tmp_path):
    import subprocess
    import sys

    run = make_run(tmp_path / "r")
    env = {**os.environ, "MONKEYS_CACHE_DIR": str(tmp_path / "cache")}
    from monkeys.sampler.embedded import cache_root

    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "models").symlink_to(cache_root() / "models")
    for args, msg in (
        (["--scorer", "reward", "--model", "embedded"], "not a sequence classifier"),
        (["--scorer", "logprob", "--template", "x"], "--scorer logprob takes no --template"),
        (["--scorer", "nope"], "unknown scorer 'nope'"),
    ):
        p = subprocess.run(
            [sys.executable, "-m", "monkeys.cli", "score", "--run", str(run.path), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert p.returncode == 2 and msg in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr


def test_a_scorer_plugin_from_an_installed_package_scores_through_the_command(tmp_path):
    import subprocess
    import sys
    import textwrap

    site = tmp_path / "site"
    (site / "textlen_scorer-0.1.dist-info").mkdir(parents=True)
    (site / "textlen_scorer-0.1.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: textlen-scorer\nVersion: 0.1\n"
    )
    (site / "textlen_scorer-0.1.dist-info" / "entry_points.txt").write_text(
        "[monkeys.scorers]\ntextlen = textlen_scorer:TextLen\n"
    )
    (site / "textlen_scorer.py").write_text(
        textwrap.dedent(
            """
            from monkeys.scorers import Scorer

            class TextLen(Scorer):
                name, version, model = "textlen", "1", ""
                def __init__(self):
                    self.options = {}
                def score(self, items):
                    return [float(len(it.text)) for it in items]
            """
        )
    )
    run = make_run(tmp_path / "r")
    env = {
        **os.environ,
        "MONKEYS_CACHE_DIR": str(tmp_path / "cache"),
        "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]),
    }
    p = subprocess.run(
        [sys.executable, "-m", "monkeys.cli", "score", "--run", str(run.path), "--scorer", "textlen"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert p.returncode == 0, p.stderr
    assert "12 scored now (8 distinct texts" in p.stdout
    assert stored(run, "textlen")[("a", 3)] == 2.0
