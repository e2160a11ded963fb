"""`monkeys verify`: grade every sample of a run once, cheaply, and survive being killed.

1. Resume: samples that already have a verdict of this verifier version are skipped.
2. Dedup: the rest are grouped by (problem, extract); each group is checked once and the verdict fanned out.
   Nothing extracted → the group is keyed by the whole completion instead.
3. Cache: groups whose (problem, extract, verifier, version) was checked before, in any run, reuse that
   verdict (`cache.py`).
4. Canaries: on the problems still to check, the verifier's gold completion must pass and an empty
   completion must fail, or nothing is written and the run is refused.
5. Checks run in killable worker processes (`pool.py`), in the verifier's own `check_batch`, or, for
   verifiers that declare `runs_inline = True` (microsecond checks that cannot hang), in this process, on
   the extract itself when the verifier offers `check_extract(problem, extract)`. Inline verifiers skip the
   verdict cache: looking a verdict up costs more than making it.
6. Verdicts are appended to the run's `verdicts` table in atomic shards every few seconds, so a kill loses at
   most the last few seconds of work, and those are usually in the cache.
"""

from __future__ import annotations

import inspect
import os
import time
from collections import defaultdict, deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from monkeys.errors import MonkeysError
from monkeys.records import Problem
from monkeys.store import Run
from monkeys.store.schema import VERDICTS
from monkeys.verifiers.base import VERIFIERS, Verdict, Verifier
from monkeys.verifiers.stage.cache import VerdictCache, item_key, problem_key
from monkeys.verifiers.stage.canaries import Canaries
from monkeys.verifiers.stage.dedup import Group, group_pending
from monkeys.verifiers.stage.pool import Batch, CheckPool

DEFAULT_TIMEOUT = 10.0
BATCH_ITEMS = 32  # checks per message to a worker
FLUSH_SECONDS = 2.0
FLUSH_ROWS = 250_000
MAX_STORED_ANSWER = 100_000


@dataclass
class VerifyReport:
    verifier: str
    version: str
    samples: int = 0  # samples in the run
    already_done: int = 0  # had a verdict of this version before this call
    verified: int = 0  # got a verdict in this call
    distinct: int = 0  # distinct (problem, extract) groups among those
    cache_hits: int = 0  # groups answered by the cache
    checks: int = 0  # groups actually checked
    extract_errors: int = 0
    kills: int = 0  # workers killed (timeouts, crashes)
    seconds: float = 0.0
    without_gold: int = 0  # problems whose gold canary was skipped: they have no gold completion


def make_verifier(name: str, options: dict[str, Any]) -> tuple[Verifier, dict[str, Any]]:
    """Build verifier `name`, passing only the options its factory accepts (all of them if it takes **kw)."""
    factory = VERIFIERS.factory(name)  # an unknown name raises the one-line error listing the known ones
    params = inspect.signature(factory).parameters
    takes_all = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    chosen = {k: v for k, v in options.items() if v is not None and (takes_all or k in params)}
    return VERIFIERS.create(name, **chosen), chosen


def load_problems(run: Run) -> dict[str, Problem]:
    """The run's problems as `Problem` records (task fields from the extra columns)."""
    df = run.problems()
    extra = [c for c in df.columns if c not in ("problem_id", "prompt", "reference")]
    out: dict[str, Problem] = {}
    for row in df.to_dict("records"):
        fields = {c: _scalar(row[c]) for c in extra}
        pid = str(row["problem_id"])
        out[pid] = Problem(pid, str(row.get("prompt") or ""), str(row.get("reference") or ""), fields)
    return out


def _scalar(x: Any) -> Any:
    if hasattr(x, "item"):
        x = x.item()
    if isinstance(x, float) and x != x:
        return None
    return x


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def verify_run(
    run: Run,
    verifier_name: str | None = None,
    options: dict[str, Any] | None = None,
    *,
    workers: int | None = None,
    timeout: float | None = None,
    cache: VerdictCache | None = None,
    progress: bool = False,
) -> VerifyReport:
    """Give every sample of `run` a verdict of `verifier_name` (default: the task's), resuming and caching."""
    t0 = time.perf_counter()
    name = verifier_name or run.manifest.get("task", {}).get("default_verifier")
    if not name:
        raise MonkeysError(f"run {run.path} names no default verifier; pass --verifier")
    options = dict(options or {})
    asked = timeout if timeout is not None else options.get("timeout")
    timeout = float(asked or DEFAULT_TIMEOUT)
    workers = workers or default_workers()
    # the verifier sees only a timeout the user asked for: a task's own limit (HumanEval's 3 s) holds else
    verifier, chosen = make_verifier(name, {**options, "timeout": asked, "workers": workers})
    report = VerifyReport(name, str(verifier.version))
    problems = load_problems(run)
    if getattr(verifier, "runs_inline", False):
        cache = None  # a SQLite round trip costs more than a microsecond check
    with run.writer("verdicts") as table:
        sink = _Sink(table, name, report.version, cache, problems)
        done = _done_keys(table, name, report.version)
        groups, errors, report.samples, report.already_done = group_pending(run, verifier, problems, done)
        report.extract_errors = len(errors)
        pending_problems = {g.problem_id for g in groups.values()}
        canaries = Canaries(verifier, [problems[p] for p in sorted(pending_problems)])
        canary_groups = canaries.groups()
        report.without_gold = len(canaries.without_gold)
        for key, g in canary_groups.items():
            if key in groups:
                groups[key].canary = g.canary
            else:
                groups[key] = g
        if cache is not None:
            for g in groups.values():
                g.key = item_key(g.extract, g.text)
        report.distinct = sum(1 for g in groups.values() if g.members)
        todo = list(groups.values())
        if cache is not None and todo:
            hits = cache.get_many(name, report.version, [(sink.pkey(g.problem_id), g.key) for g in todo])
            resolved = {
                id(g): hits[(sink.pkey(g.problem_id), g.key)]
                for g in todo
                if (sink.pkey(g.problem_id), g.key) in hits
            }
            report.cache_hits = sum(1 for g in todo if id(g) in resolved and g.members)
        else:
            resolved = {}
        runner = _Executor(verifier, name, chosen, workers, timeout)
        bar: _NoBar | _RichBar = _NoBar()
        try:
            first = [g for g in todo if g.canary and id(g) not in resolved]
            for g, verdict in runner.run(problems, first):
                resolved[id(g)] = verdict
                sink.cache_only(g, verdict)
            canaries.enforce({g.problem_id + ":" + g.canary: resolved[id(g)] for g in todo if g.canary})
            sink.add_rows(errors)  # only once the canaries allow writing anything
            rest = [g for g in todo if g.members and id(g) not in resolved]
            report.checks = len(rest) + len(first)
            bar = _progress(progress, sum(len(g.members) for g in todo if g.members), name)
            for g in todo:
                if g.members and id(g) in resolved:
                    sink.fan_out(g, resolved[id(g)], cached=True)
                    bar.advance(len(g.members))
            for g, verdict in runner.run(problems, rest):
                sink.fan_out(g, verdict)
                bar.advance(len(g.members))
        finally:
            bar.close()
            report.kills = runner.kills
            runner.close()
            sink.flush()
        report.verified = sink.rows_written
        if sink.shards > 1:
            table.compact()
    report.seconds = time.perf_counter() - t0
    return report


# -- steps ---------------------------------------------------------------------------------------------
def _done_keys(table: Any, name: str, version: str) -> set[tuple[str, int]]:
    t = table.read(["problem_id", "sample_index", "verifier", "verifier_version"])
    if t.num_rows == 0:
        return set()
    mask = pc.and_(pc.equal(t["verifier"], name), pc.equal(t["verifier_version"], version))
    t = t.filter(mask)
    return set(zip(t["problem_id"].to_pylist(), t["sample_index"].to_pylist(), strict=True))


class _Executor:
    """Runs checks the way the verifier wants: inline, via its `check_batch`, or in the worker pool."""

    def __init__(
        self, verifier: Verifier, name: str, options: dict[str, Any], workers: int, timeout: float
    ) -> None:
        self.verifier, self.name, self.options = verifier, name, options
        self.workers, self.timeout = workers, timeout
        self.pool: CheckPool | None = None
        self.kills = 0

    def run(self, problems: dict[str, Problem], groups: Sequence[Group]) -> Iterator[tuple[Group, Verdict]]:
        if not groups:
            return
        if getattr(self.verifier, "runs_inline", False):
            judge = getattr(self.verifier, "check_extract", None)  # skips extracting the answer again
            for g in groups:
                if judge is not None and g.extract is not None:
                    yield g, _safe_check(judge, problems[g.problem_id], g.extract)
                else:
                    yield g, _safe_check(self.verifier.check, problems[g.problem_id], g.text)
        elif hasattr(self.verifier, "check_batch"):
            yield from self._batched(problems, groups)
        else:
            yield from self._pooled(problems, groups)

    def _batched(
        self, problems: dict[str, Problem], groups: Sequence[Group]
    ) -> Iterator[tuple[Group, Verdict]]:
        stream = getattr(self.verifier, "iter_batch", None)
        if stream is not None:  # verdicts as each check ends, so the sink's 2 s clock saves them
            items = [(problems[g.problem_id], g.text) for g in groups]
            seen: set[int] = set()
            try:
                for i, verdict in stream(items):
                    seen.add(i)
                    yield groups[i], verdict
            except Exception as exc:
                lost = Verdict("error", None, f"iter_batch raised {type(exc).__name__}: {str(exc)[:200]}")
                yield from ((g, lost) for i, g in enumerate(groups) if i not in seen)
            return
        step = 256
        for i in range(0, len(groups), step):
            chunk = groups[i : i + step]
            try:
                verdicts = list(self.verifier.check_batch([(problems[g.problem_id], g.text) for g in chunk]))  # type: ignore[attr-defined]
                if len(verdicts) != len(chunk):
                    raise RuntimeError(
                        f"check_batch returned {len(verdicts)} verdicts for {len(chunk)} items"
                    )
            except Exception as exc:
                verdicts = [
                    Verdict("error", None, f"check_batch raised {type(exc).__name__}: {str(exc)[:200]}")
                ] * len(chunk)
            yield from zip(chunk, verdicts, strict=True)

    def _pooled(
        self, problems: dict[str, Problem], groups: Sequence[Group]
    ) -> Iterator[tuple[Group, Verdict]]:
        if self.pool is None:
            n = min(self.workers, max(1, len(groups)))
            preload = tuple(getattr(self.verifier, "preload", ()))
            module = type(self.verifier).__module__  # workers import it, so plugins from anywhere work
            self.pool = CheckPool(self.name, self.options, n, self.timeout, preload, imports=(module,))
        by_problem: dict[str, list[Group]] = defaultdict(list)
        for g in groups:
            by_problem[g.problem_id].append(g)
        lookup = {id(g): g for g in groups}
        batches = []
        for pid, gs in by_problem.items():
            for i in range(0, len(gs), BATCH_ITEMS):
                batches.append(Batch(problems[pid], deque((id(g), g.text) for g in gs[i : i + BATCH_ITEMS])))
        try:
            for key, verdict in self.pool.run(batches):
                yield lookup[key], verdict  # type: ignore[index]
        finally:
            self.kills = self.pool.kills

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()
            self.pool = None


def _safe_check(check: Any, problem: Problem, text: str) -> Verdict:
    t0 = time.perf_counter()
    try:
        v = check(problem, text)
    except Exception as exc:
        return Verdict(
            "error", None, f"check raised {type(exc).__name__}: {str(exc)[:200]}", time.perf_counter() - t0
        )
    return v if isinstance(v, Verdict) else Verdict("error", None, f"check returned {type(v).__name__}")


class _Sink:
    """Buffers verdict rows and appends them to the run (and pass/fail verdicts to the cache) every few
    seconds; the cache is written first, so a kill between the two costs no re-check."""

    def __init__(
        self, table: Any, name: str, version: str, cache: VerdictCache | None, problems: dict[str, Problem]
    ) -> None:
        self.table, self.name, self.version, self.cache, self.problems = table, name, version, cache, problems
        self.cols: dict[str, list[Any]] = {
            n: [] for n in ("problem_id", "sample_index", "verdict", "answer", "detail", "seconds")
        }
        self.pending_cache: list[tuple[str, str, Verdict]] = []
        self.last = time.monotonic()
        self.rows_written = 0
        self.shards = 0
        self._pkeys: dict[str, str] = {}

    def pkey(self, pid: str) -> str:
        k = self._pkeys.get(pid)
        if k is None:
            k = self._pkeys[pid] = problem_key(self.problems[pid])
        return k

    def cache_only(self, g: Group, v: Verdict) -> None:
        if self.cache is not None:
            self.pending_cache.append((self.pkey(g.problem_id), g.key, v))

    def add_rows(self, rows: list[tuple[str, int, Verdict]]) -> None:
        for pid, idx, v in rows:
            self._row(pid, [idx], v)
        self._maybe_flush()

    def fan_out(self, g: Group, v: Verdict, cached: bool = False) -> None:
        if not cached:
            self.cache_only(g, v)
        self._row(g.problem_id, g.members, v)
        self._maybe_flush()

    def _row(self, pid: str, idxs: list[int], v: Verdict) -> None:
        n = len(idxs)
        answer = (
            v.answer
            if v.answer is None or len(v.answer) <= MAX_STORED_ANSWER
            else v.answer[:MAX_STORED_ANSWER]
        )
        c = self.cols
        c["problem_id"].extend([pid] * n)
        c["sample_index"].extend(idxs)
        c["verdict"].extend([v.verdict] * n)
        c["answer"].extend([answer] * n)
        c["detail"].extend([v.detail] * n)
        c["seconds"].extend([float(v.seconds)] * n)

    def _maybe_flush(self) -> None:
        if len(self.cols["problem_id"]) >= FLUSH_ROWS or time.monotonic() - self.last >= FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        self.last = time.monotonic()
        if self.cache is not None and self.pending_cache:
            self.cache.put_many(self.name, self.version, self.pending_cache)
            self.pending_cache = []
        n = len(self.cols["problem_id"])
        if n == 0:
            return
        c = self.cols
        t = pa.table(
            {
                "problem_id": pa.array(c["problem_id"], pa.string()),
                "sample_index": pa.array(c["sample_index"], pa.int64()),
                "verifier": pa.array([self.name] * n, pa.string()),
                "verifier_version": pa.array([self.version] * n, pa.string()),
                "verdict": pa.array(c["verdict"], pa.string()),
                "answer": pa.array(c["answer"], pa.large_string()),
                "detail": pa.array(c["detail"], pa.large_string()),
                "seconds": pa.array(c["seconds"], pa.float64()),
            },
            schema=VERDICTS,
        )
        self.table.append(t)
        self.shards += 1
        self.rows_written += n
        for v in c.values():
            v.clear()


class _NoBar:
    def advance(self, n: int) -> None: ...

    def close(self) -> None: ...


class _RichBar:
    def __init__(self, total: int, name: str) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.progress = Progress(
            TextColumn(f"verify ({name})"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            transient=True,
        )
        self.task = self.progress.add_task("verify", total=total)
        self.progress.start()

    def advance(self, n: int) -> None:
        self.progress.advance(self.task, n)

    def close(self) -> None:
        self.progress.stop()


def _progress(show: bool, total: int, name: str) -> _NoBar | _RichBar:
    return _RichBar(total, name) if show and total > 0 else _NoBar()
