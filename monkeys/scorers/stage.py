"""`monkeys score`: give every sample of a run a score of one scorer, once, and survive being killed.

1. Resume: samples that already hold a score of this identity (name, version, model, options) are skipped.
2. Dedup: the rest are grouped by (problem, text); each group is scored once and the score fanned out.
3. Cache: groups whose (identity, problem, text) was scored before, in any run, reuse that score
   (`cache.py`); the model is loaded only when something is left to compute.
4. The rest are sorted by problem, then length, and handed to the scorer in batches: a problem's samples
   share its question, which a scorer can compute once, and similar lengths pad little.
5. Scores are appended to the run's `scores` table in atomic shards every few seconds (and written to the
   cache first), so a kill loses at most the batches since the last flush.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from monkeys.errors import MonkeysError
from monkeys.records import Problem
from monkeys.scorers.base import ScoreItem, Scorer, identity
from monkeys.scorers.cache import ScoreCache, text_key
from monkeys.store import Run
from monkeys.store.schema import SCORES
from monkeys.verifiers.stage.cache import problem_key
from monkeys.verifiers.stage.runner import load_problems

BATCH_SIZE = 64
FLUSH_SECONDS = 2.0


@dataclass
class ScoreReport:
    name: str  # the name the scores are stored under
    version: str
    model: str
    samples: int = 0  # samples in the run
    already_done: int = 0  # held a score of this identity before this call
    scored: int = 0  # got a score in this call
    distinct: int = 0  # distinct (problem, text) groups among those
    cache_hits: int = 0  # groups answered by the cache
    computed: int = 0  # groups the scorer scored
    missing: int = 0  # samples scored now that got no score (NaN, stored as null)
    seconds: float = 0.0


@dataclass
class _Group:
    problem_id: str
    text: str
    cumulative_logprob: float | None
    completion_tokens: int | None
    members: list[int] = field(default_factory=list)
    key: str = ""


def score_run(
    run: Run,
    scorer: Scorer,
    *,
    name: str | None = None,
    cache: ScoreCache | None = None,
    batch_size: int = BATCH_SIZE,
    flush_seconds: float = FLUSH_SECONDS,
) -> ScoreReport:
    """Score every sample of `run` with `scorer`, stored under `name` (default: the scorer's name),
    resuming and caching. Built-in scorers load their model on the first `score` call, so a run that is
    fully stored or cached never loads one."""
    t0 = time.perf_counter()
    ident = identity(scorer)
    label = name or ident["scorer"]
    if label != ident["scorer"]:
        ident["options"] = json.dumps(
            {**json.loads(ident["options"]), "_scorer": ident["scorer"]}, sort_keys=True
        )
    ckey = hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:24]
    report = ScoreReport(label, ident["scorer_version"], ident["model"])
    problems = load_problems(run)
    with run.writer("scores") as table:
        done = _done_keys(table, label, ident, _sample_keys(run))
        groups = _pending(run, problems, done, report)
        report.distinct = len(groups)
        pkeys = {pid: problem_key(problems[pid]) for pid in {g.problem_id for g in groups}}
        for g in groups:
            g.key = text_key(g.text)
        sink = _Sink(table, label, ident, cache, ckey, flush_seconds)
        try:
            hits = cache.get_many(ckey, [(pkeys[g.problem_id], g.key) for g in groups]) if cache else {}
            todo = []
            for g in groups:
                s = hits.get((pkeys[g.problem_id], g.key))
                if s is None:
                    todo.append(g)
                else:
                    report.cache_hits += 1
                    sink.add(g, s, pkeys[g.problem_id], cached=True)
            # a problem's samples together (their shared prefix is computed once), shortest first
            todo.sort(key=lambda g: (g.problem_id, len(g.text)))
            report.computed = len(todo)
            sink.flush()
            for i in range(0, len(todo), batch_size):
                chunk = todo[i : i + batch_size]
                items = [
                    ScoreItem(problems[g.problem_id], g.text, g.cumulative_logprob, g.completion_tokens)
                    for g in chunk
                ]
                scores = list(scorer.score(items))
                if len(scores) != len(chunk):
                    raise MonkeysError(
                        f"scorer {ident['scorer']} returned {len(scores)} scores for {len(chunk)} samples; "
                        "fix the scorer plugin"
                    )
                for g, s in zip(chunk, scores, strict=True):
                    sink.add(g, float(s), pkeys[g.problem_id])
                sink.maybe_flush()
        finally:
            sink.flush()
        report.scored = sink.rows_written
        report.missing = sink.missing
        if sink.shards > 1:
            table.compact()
    report.seconds = time.perf_counter() - t0
    return report


def _sample_keys(run: Run) -> set[tuple[str, int]]:
    t = run.samples_table(["problem_id", "sample_index"])
    return set(zip(t["problem_id"].to_pylist(), t["sample_index"].to_pylist(), strict=True))


def _done_keys(
    table: Any, label: str, ident: dict[str, str], present: set[tuple[str, int]]
) -> set[tuple[str, int]]:
    """Samples already scored with this identity; scores under `label` for vanished samples are an error."""
    t = table.read(["problem_id", "sample_index", "scorer", "scorer_version", "model", "options"])
    t = t.filter(pc.equal(t["scorer"], label))
    if t.num_rows == 0:
        return set()
    keys = list(zip(t["problem_id"].to_pylist(), t["sample_index"].to_pylist(), strict=True))
    gone = [k for k in keys if k not in present]
    if gone:
        raise MonkeysError(
            f"{len(gone)} stored scores of {label!r} belong to samples the run no longer holds "
            f"(first: problem {gone[0][0]!r} sample {gone[0][1]}); delete {table.directory} and score again"
        )
    same = (
        pc.equal(t["scorer_version"], ident["scorer_version"]).to_pylist(),
        pc.equal(pc.fill_null(t["model"], ""), ident["model"]).to_pylist(),
        pc.equal(pc.fill_null(t["options"], "{}"), ident["options"]).to_pylist(),
    )
    return {k for k, a, b, c in zip(keys, *same, strict=True) if a and b and c}


def _pending(
    run: Run, problems: dict[str, Problem], done: set[tuple[str, int]], report: ScoreReport
) -> list[_Group]:
    groups: dict[tuple[str, str], _Group] = {}
    cols = ["problem_id", "sample_index", "text", "cumulative_logprob", "completion_tokens"]
    for batch in run.table("samples").iter_batches(cols):
        rows = zip(*(batch.column(i).to_pylist() for i in range(len(cols))), strict=True)
        for pid, idx, text, cum, toks in rows:
            report.samples += 1
            if (pid, idx) in done:
                report.already_done += 1
                continue
            if pid not in problems:
                raise MonkeysError(
                    f"sample {idx} of problem {pid!r} has no problem in {run.path}/problems.parquet; "
                    "the run is damaged, re-import it"
                )
            text = text or ""
            g = groups.get((pid, text))
            if g is None:
                g = groups[(pid, text)] = _Group(pid, text, cum, toks)
            g.members.append(idx)
    return list(groups.values())


class _Sink:
    """Buffers score rows and appends them to the run (and new scores to the cache, first) on a clock."""

    def __init__(
        self,
        table: Any,
        label: str,
        ident: dict[str, str],
        cache: ScoreCache | None,
        ckey: str,
        flush_seconds: float,
    ) -> None:
        self.table, self.label, self.ident, self.cache, self.ckey = table, label, ident, cache, ckey
        self.flush_seconds = flush_seconds
        self.pids: list[str] = []
        self.idxs: list[int] = []
        self.vals: list[float | None] = []
        self.to_cache: list[tuple[str, str, float]] = []
        self.last = time.monotonic()
        self.rows_written = 0
        self.shards = 0
        self.missing = 0

    def add(self, g: _Group, score: float, pkey: str, cached: bool = False) -> None:
        if not cached and self.cache is not None:
            self.to_cache.append((pkey, g.key, score))
        n = len(g.members)
        self.missing += n if math.isnan(score) else 0
        self.pids.extend([g.problem_id] * n)
        self.idxs.extend(g.members)
        self.vals.extend([None if math.isnan(score) else score] * n)

    def maybe_flush(self) -> None:
        if time.monotonic() - self.last >= self.flush_seconds:
            self.flush()

    def flush(self) -> None:
        self.last = time.monotonic()
        if self.cache is not None and self.to_cache:
            self.cache.put_many(self.ckey, self.to_cache)
            self.to_cache = []
        n = len(self.pids)
        if n == 0:
            return
        t = pa.table(
            {
                "problem_id": pa.array(self.pids, pa.string()),
                "sample_index": pa.array(self.idxs, pa.int64()),
                "scorer": pa.array([self.label] * n, pa.string()),
                "scorer_version": pa.array([self.ident["scorer_version"]] * n, pa.string()),
                "score": pa.array(self.vals, pa.float64()),
                "model": pa.array([self.ident["model"]] * n, pa.string()),
                "options": pa.array([self.ident["options"]] * n, pa.string()),
            },
            schema=SCORES,
        )
        self.table.append(t)
        self.shards += 1
        self.rows_written += n
        self.pids, self.idxs, self.vals = [], [], []
