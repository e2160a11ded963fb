"""`monkeys verify`: grade every sample of a run once, cheaply, and survive being killed.

1. Resume: samples that already have a verdict of this verifier version, made under the same options, are
   skipped. Options that shape verdicts (time limit, sandbox, plugin options) are recorded with every
   verdict set; asking for other options than a run's verdicts have is refused, naming the option, unless
   `regrade` grades every sample again into a new set (`monkeys.store.verdict_sets`).
2. Dedup: the rest are grouped by (problem, extract); each group is checked once and the verdict fanned out.
   Nothing extracted → the group is keyed by the whole completion instead.
3. Cache: groups whose (problem, extract, verifier, version, options) was checked before, in any run, reuse
   that verdict (`cache.py`).
4. Canaries: on the problems still to check, the verifier's gold completion must pass and an empty
   completion must fail, or nothing is written and the run is refused.
5. Checks run in killable worker processes (`pool.py`; a `ChecksQuickly` verifier first settles what it
   can in this process, exactly and in microseconds, and only the rest goes to the pool). Pooled checks
   overlap extraction: the fork server and then the workers start in the background, the canaries go to
   them first, and each group goes to them as soon as extraction makes it, so on a run whose checks are
   slow the workers check while this process extracts. Or checks run in the verifier's own `check_batch` (a
   `ChecksBatch`), or, for verifiers that declare `runs_inline = True` (microsecond checks that cannot
   hang), in this process, on the extract itself when the verifier is a `ChecksExtract`. Inline verifiers skip the
   verdict cache: looking a verdict up costs more than making it.
6. Verdicts are appended to the run's `verdicts` table in atomic shards every few seconds, so a kill loses at
   most the last few seconds of work, and those are usually in the cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import time
from collections import defaultdict, deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow.compute as pc

from monkeys.errors import MonkeysError, RunMismatchError, UsageError
from monkeys.host import default_workers
from monkeys.records import Problem
from monkeys.registry import accepted
from monkeys.store import Run
from monkeys.store.schema import VERDICTS
from monkeys.store.shards import ShardBuffer
from monkeys.store.verdict_sets import MANIFEST_KEY, canonical, set_mask, stored_sets
from monkeys.verifiers.base import (
    VERIFIERS,
    ChecksBatch,
    ChecksExtract,
    ChecksQuickly,
    StreamsBatch,
    Verdict,
    Verifier,
)
from monkeys.verifiers.stage.cache import VerdictCache, item_key, problem_key
from monkeys.verifiers.stage.canaries import Canaries
from monkeys.verifiers.stage.dedup import Group, group_pending
from monkeys.verifiers.stage.pool import Batch, CheckPool, prestart

DEFAULT_TIMEOUT = 10.0
BATCH_ITEMS = 64  # checks per message to a worker (one problem's: a worker parses its reference once)
KNOWN_PER_CHECK = 64  # known verdicts written between two of the workers' verdicts
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
    quick: int = 0  # groups settled in this process by the verifier's quick check (never cached)
    checks: int = 0  # groups actually checked
    extract_errors: int = 0
    kills: int = 0  # workers killed (timeouts, crashes)
    ray_tasks: int = 0  # check batches run as Ray tasks (verify --ray)
    ray_failed: int = 0  # of those, tasks that failed on every try (their checks are `error`)
    seconds: float = 0.0
    without_gold: int = 0  # problems whose gold canary was skipped: they have no gold completion
    options: dict[str, Any] = field(default_factory=dict)  # the options of the verdict set (its identity)


NOT_VERDICT_SHAPING = ("workers",)


def make_verifier(name: str, options: dict[str, Any]) -> tuple[Verifier, dict[str, Any]]:
    """Build verifier `name`, passing only the options its factory accepts (all of them if it takes **kw)."""
    factory = VERIFIERS.factory(name)  # an unknown name raises the one-line error listing the known ones
    chosen = accepted(factory, options)
    return VERIFIERS.create(name, **chosen), chosen


def verdict_options(name: str, chosen: dict[str, Any], timeout: float, inline: bool) -> dict[str, Any]:
    """The options that shape `name`'s verdicts: every factory option (given, else its default) but the
    worker count, plus the per-check time limit of pooled checks."""
    out: dict[str, Any] = {}
    for key, p in VERIFIERS.parameters(name).items():
        if key in NOT_VERDICT_SHAPING:
            continue
        if key in chosen:
            out[key] = chosen[key]
        elif p.default is not p.empty:
            out[key] = p.default
    if not inline:
        out.setdefault("timeout", timeout)
    return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}


def option_flag(key: str, value: Any) -> str:
    """How to ask for `key=value` on the command line."""
    flag = {"timeout": "--timeout", "sandbox": "--sandbox", "repeat_borderline": "--repeat-borderline"}
    bools = {"all_tests": "--all-tests", "unsafe_no_sandbox": "--unsafe-no-sandbox"}
    if key in bools:
        return bools[key] if value else f"no {bools[key]}"
    if key in flag:
        return (
            f"no {flag[key]}"
            if value is None
            else f"{flag[key]} {value:g}"
            if isinstance(value, float)
            else f"{flag[key]} {value}"
        )
    return f"-V {key}={value}"


def cache_version(version: str, options: str) -> str:
    """The cache's version key: the verifier version plus a digest of the options (none for no options)."""
    if options == "{}":
        return version
    return f"{version}+{hashlib.sha256(options.encode()).hexdigest()[:16]}"


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
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and x != x:
        return None
    return x


def verify_run(
    run: Run,
    verifier_name: str | None = None,
    options: dict[str, Any] | None = None,
    *,
    workers: int | None = None,
    timeout: float | None = None,
    cache: VerdictCache | None = None,
    progress: bool = False,
    regrade: bool = False,
    ray: str | None = None,
) -> VerifyReport:
    """Give every sample of `run` a verdict of `verifier_name` (default: the task's), resuming and caching.

    `options` are the verifier's construction options; those that shape verdicts are recorded with them.
    When the run holds verdicts of this verifier version made under other options, this refuses with a
    `RunMismatchError` naming the option, unless `regrade` is set: then every sample is graded again into a
    new verdict set, which becomes the run's current one (the old set is kept)."""
    t0 = time.perf_counter()
    name = verifier_name or run.manifest.get("task", {}).get("default_verifier")
    if not name:
        raise UsageError(f"run {run.path} names no default verifier; pass --verifier")
    options = dict(options or {})
    asked = timeout if timeout is not None else options.get("timeout")
    timeout = float(asked or DEFAULT_TIMEOUT)
    workers = workers or default_workers()
    # the verifier sees only a timeout the user asked for: a task's own limit (HumanEval's 3 s) holds else
    verifier, chosen = make_verifier(name, {**options, "timeout": asked, "workers": workers})
    report = VerifyReport(name, str(verifier.version))
    identity = verdict_options(name, chosen, timeout, verifier.runs_inline)
    defaults = verdict_options(
        name,
        accepted(VERIFIERS.factory(name), {"timeout": DEFAULT_TIMEOUT}),
        DEFAULT_TIMEOUT,
        verifier.runs_inline,
    )
    report.options = identity
    problems = load_problems(run)
    if verifier.runs_inline:
        cache = None  # a SQLite round trip costs more than a microsecond check
    with run.writer("verdicts") as table:
        ours, legacy = _choose_set(run, table, name, report.version, identity, defaults, regrade)
        sink = _Sink(table, name, report.version, cache, problems, ours)
        done = _done_keys(table, name, report.version, ours, legacy)
        job = _Job(run, verifier, name, chosen, problems, done, sink, report, workers, timeout, progress, ray)
        if not verifier.runs_inline and not isinstance(verifier, ChecksBatch) and ray is None:
            _verify_pooled(job)
        else:
            _verify_in_turn(job)
        report.verified = sink.rows_written
        if sink.shards > 1:
            table.compact()
        sets = dict(run.manifest.get(MANIFEST_KEY, {}))
        sets[name] = {"version": report.version, "options": identity, "legacy_rows": legacy}
        run.update_manifest(**{MANIFEST_KEY: sets})
    report.seconds = time.perf_counter() - t0
    return report


@dataclass
class _Job:
    """One verify call's settled inputs, for either way of checking."""

    run: Run
    verifier: Verifier
    name: str
    chosen: dict[str, Any]
    problems: dict[str, Problem]
    done: set[tuple[str, int]]
    sink: _Sink
    report: VerifyReport
    workers: int
    timeout: float
    progress: bool
    ray: str | None


def _verify_in_turn(job: _Job) -> None:
    """Inline, batch and Ray checks: extract everything, then check the groups (canaries first)."""
    verifier, problems, sink, report = job.verifier, job.problems, job.sink, job.report
    groups, errors, report.samples, report.already_done = group_pending(job.run, verifier, problems, job.done)
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
    todo = list(groups.values())
    report.distinct = sum(1 for g in todo if g.members)
    resolved = sink.look_up(todo)
    report.cache_hits = sum(1 for g in todo if id(g) in resolved and g.members)
    runner = _Executor(verifier, job.name, job.chosen, job.workers, job.timeout, job.ray)
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
        bar = _progress(job.progress, sum(len(g.members) for g in todo if g.members), job.name)
        known = iter([g for g in todo if g.members and id(g) in resolved])

        def fan_out_known(count: int | None) -> None:  # verdicts from the cache
            for g in itertools.islice(known, count):
                sink.fan_out(g, resolved[id(g)], cached=True)
                bar.advance(len(g.members))

        # the workers' checks start first; the known verdicts are written while the parent waits on them
        for g, verdict in runner.run(problems, rest):
            sink.fan_out(g, verdict)
            bar.advance(len(g.members))
            fan_out_known(KNOWN_PER_CHECK)
        fan_out_known(None)
    finally:
        bar.close()
        report.kills = runner.kills
        report.ray_tasks, report.ray_failed = runner.ray_tasks, runner.ray_failed
        runner.close()
        sink.flush()


def _verify_pooled(job: _Job) -> None:
    """Checks in the worker pool, started while this process is still extracting: the canaries first,
    then each group as extraction finds it (settled here when the verifier's quick check can, else looked
    up in the cache, else sent to a worker). Rows are written once the canaries pass, and from then on as
    verdicts and samples come in."""
    verifier, problems, sink, report = job.verifier, job.problems, job.sink, job.report
    with contextlib.suppress(Exception):  # a failure here shows, clearly, when the pool starts
        prestart(tuple(verifier.preload), (type(verifier).__module__,))  # imports overlap extraction
    pending = _pending_problems(job.run, problems, job.done)
    canaries = Canaries(verifier, [problems[p] for p in pending])
    groups = canaries.groups()
    report.without_gold = len(canaries.without_gold)
    flow = _Flow(job, list(groups.values()))
    bar: _NoBar | _RichBar = _NoBar()
    try:
        for g in list(groups.values()):
            flow.new(g)
        flow.tick()
        groups, flow.errors, report.samples, report.already_done = group_pending(
            job.run, verifier, problems, job.done, groups, flow.new, flow.member, flow.tick
        )
        report.extract_errors = len(flow.errors)
        bar = flow.bar = _progress(
            job.progress, sum(len(g.members) for g in flow.groups) + len(flow.errors), job.name
        )
        bar.advance(flow.rows)
        while not flow.open or flow.busy:
            flow.tick(None)
        flow.tick(0)  # the rows of the last samples to join groups with verdicts
    finally:
        bar.close()
        report.kills = flow.kills
        flow.close()
        sink.flush()
    settled = [(flow.how.get(id(g)), bool(g.members)) for g in flow.groups]
    report.distinct = sum(1 for _, m in settled if m)
    report.quick = sum(1 for how, m in settled if how == "quick" and m)
    report.cache_hits = sum(1 for how, m in settled if how == "cache" and m)
    report.checks = sum(1 for how, _ in settled if how in ("quick", "check"))


def _pending_problems(run: Run, problems: dict[str, Problem], done: set[tuple[str, int]]) -> list[str]:
    """The run's problems with a sample still to grade (the problems the canaries check), sorted."""
    t = run.table("samples").read(["problem_id", "sample_index"])
    if not done:
        ids = set(pc.unique(t["problem_id"]).to_pylist())
    else:
        ids = {
            p
            for p, i in zip(t["problem_id"].to_pylist(), t["sample_index"].to_pylist(), strict=True)
            if (p, i) not in done
        }
    return sorted(p for p in ids if p in problems)


class _Flow:
    """The state of a pooled verify while extraction runs: which groups have verdicts and how, which are
    with the workers, and whether the canaries have passed (before that, nothing is written)."""

    def __init__(self, job: _Job, canaries: list[Group]) -> None:
        verifier = self.verifier = job.verifier
        self.name, self.options, self.workers, self.timeout = job.name, job.chosen, job.workers, job.timeout
        self.problems, self.sink = job.problems, job.sink
        self.quick = verifier.quick_check if isinstance(verifier, ChecksQuickly) else None
        self.canaries = canaries
        self.checker = Canaries(verifier, [])
        self.groups: list[Group] = []  # every group made so far (canaries included)
        self.errors: list[tuple[str, int, Verdict]] = []
        self.resolved: dict[int, Verdict] = {}
        self.how: dict[int, str] = {}  # "quick", "cache" or "check"
        self.fresh: list[Group] = []  # groups for the cache and the pool, not yet handed on
        self.inflight: dict[int, Group] = {}
        self.pool: CheckPool | None = None
        self._starting: ThreadPoolExecutor | None = None
        self._pool_future: Future[CheckPool] | None = None
        self.queued: list[Batch] = []  # batches made before the pool was up
        self.dirty: list[Group] = []  # groups with samples to write at the next tick
        self.open = False
        self.rows = 0  # rows written
        self.bar: _NoBar | _RichBar = _NoBar()
        self._kills = 0

    @property
    def kills(self) -> int:
        return self._kills + (self.pool.kills if self.pool is not None else 0)

    @property
    def busy(self) -> bool:
        return bool(self.fresh) or bool(self.inflight)

    def new(self, g: Group) -> None:
        """A group extraction just made (or a canary): settle it here if the quick check can."""
        self.groups.append(g)
        if self.quick is not None:
            try:
                v = self.quick(self.problems[g.problem_id], g.extract)
            except Exception:  # a quick check that raises leaves its group to the pool
                v = None
            if isinstance(v, Verdict):
                self._settle(g, v, "quick")
                return
        self.fresh.append(g)

    def member(self, g: Group, idx: int) -> None:
        """A sample joined `g`: if `g` has its verdict and writing is allowed, its row goes out at the next
        tick, with the group's other new samples (one write per group, not per sample)."""
        if self.open and g.written == len(g.members) - 1 and id(g) in self.resolved:
            self.dirty.append(g)

    def tick(self, wait: float | None = 0.0) -> None:
        """Hand fresh groups on, take the workers' verdicts (waiting at most `wait` seconds; None: until one
        comes), and open writing once every canary has its verdict."""
        dirty, self.dirty = self.dirty, []
        for g in dirty:
            self._write(g)
        self.dispatch()
        if self.inflight and self._pool_ready(block=wait is None):
            assert self.pool is not None
            for key, v in self.pool.step(wait):
                g = self.inflight.pop(key)  # type: ignore[call-overload]
                self.sink.cache_only(g, v)
                self._settle(g, v, "check")
        if not self.open and all(id(g) in self.resolved for g in self.canaries):
            try:
                self.checker.enforce(
                    {g.problem_id + ":" + g.canary: self.resolved[id(g)] for g in self.canaries}
                )
            except MonkeysError:  # a verifier that fails its canaries leaves nothing behind, in the cache too
                self.sink.pending_cache = []
                raise
            self.open = True
            self.sink.add_rows(self.errors)
            self.rows += len(self.errors)
            self.bar.advance(len(self.errors))
            self.errors = []
            for g in self.groups:
                if id(g) in self.resolved:
                    self._write(g)

    def dispatch(self) -> None:
        """Fresh groups: verdicts from the cache, the rest to the workers, in batches of one problem's."""
        if not self.fresh:
            return
        fresh, self.fresh = self.fresh, []
        hits = self.sink.look_up(fresh)
        todo = []
        for g in fresh:
            v = hits.get(id(g))
            if v is not None:
                self._settle(g, v, "cache")
            else:
                todo.append(g)
        if not todo:
            return
        if self._pool_future is None:
            self._pool_future = self.start_pool()
        for g in todo:
            self.inflight[id(g)] = g
        self.queued.extend(_batches(self.problems, todo))
        if self._pool_ready(block=False):
            assert self.pool is not None
            self.pool.submit(self.queued)
            self.queued = []

    def start_pool(self) -> Future[CheckPool]:
        """Start the worker pool in a thread: this process goes on extracting while the workers start."""
        self._starting = ThreadPoolExecutor(1, thread_name_prefix="monkeys-pool-start")
        return self._starting.submit(
            _make_pool, self.verifier, self.name, self.options, self.workers, self.timeout
        )

    def _pool_ready(self, block: bool) -> bool:
        """Whether the worker pool is up (waiting for it when `block`); hands it the batches queued so far."""
        if self.pool is None:
            future = self._pool_future
            if future is None or not (block or future.done()):
                return False
            self.pool = future.result()  # raises what the start raised (a worker that cannot start)
            self.pool.submit(self.queued)
            self.queued = []
        return True

    def _settle(self, g: Group, v: Verdict, how: str) -> None:
        self.resolved[id(g)] = v
        self.how[id(g)] = how
        if self.open:
            self._write(g)

    def _write(self, g: Group) -> None:
        n = len(g.members) - g.written
        if n > 0:
            self.sink.write_members(g, g.members[g.written :], self.resolved[id(g)])
            g.written = len(g.members)
            self.rows += n
            self.bar.advance(n)

    def close(self) -> None:
        if self.pool is None and self._pool_future is not None:
            with contextlib.suppress(Exception):  # a pool that failed to start has nothing to close
                self.pool = self._pool_future.result()
        if self._starting is not None:
            self._starting.shutdown(wait=True)
        if self.pool is not None:
            self._kills += self.pool.kills
            self.pool.close()
            self.pool = None


def _batches(problems: dict[str, Problem], groups: Sequence[Group]) -> list[Batch]:
    """The groups' checks as worker batches of one problem's (a worker reads each reference once)."""
    by_problem: dict[str, list[Group]] = defaultdict(list)
    for g in groups:
        by_problem[g.problem_id].append(g)
    return [
        Batch(problems[pid], deque((id(g), g.text) for g in gs[i : i + BATCH_ITEMS]))
        for pid, gs in by_problem.items()
        for i in range(0, len(gs), BATCH_ITEMS)
    ]


def _make_pool(
    verifier: Verifier, name: str, options: dict[str, Any], workers: int, timeout: float
) -> CheckPool:
    preload = tuple(verifier.preload)
    module = type(verifier).__module__  # workers import it, so plugins from anywhere work
    return CheckPool(name, options, workers, timeout, preload, imports=(module,))


# -- steps ---------------------------------------------------------------------------------------------
def _choose_set(
    run: Run,
    table: Any,
    name: str,
    version: str,
    identity: dict[str, Any],
    defaults: dict[str, Any],
    regrade: bool,
) -> tuple[str, bool]:
    """The options string of the verdict set this call fills, and whether rows from before options were
    recorded belong to it (they were made with the verifier's defaults). Refuses other options than the
    stored verdicts have unless `regrade`."""
    ours = canonical(identity)
    legacy = ours == canonical(defaults)
    sets = stored_sets(table.read(["verifier", "verifier_version", "verifier_options"]), name, version)
    present = {canonical(defaults) if k is None else k for k in sets}
    if not present or ours in present or regrade:
        return ours, legacy and None in sets
    import json

    current = run.manifest.get(MANIFEST_KEY, {}).get(name, {})
    if str(current.get("version")) == version and canonical(current.get("options", {})) in present:
        theirs = dict(current.get("options", {}))
    else:  # the set with the most verdicts
        best = max(sets, key=lambda k: sets[k])
        theirs = defaults if best is None else json.loads(best)
    key = next(k for k in sorted(set(theirs) | set(identity)) if theirs.get(k) != identity.get(k))
    raise RunMismatchError(
        f"{run.path} has verdicts of {name} v{version} made with {key}={theirs.get(key)!r}, and this command "
        f"asks for {key}={identity.get(key)!r}; pass {option_flag(key, theirs.get(key))} to resume those "
        "verdicts, or add --regrade to grade every sample again under the new options (the old verdicts are kept)"
    )


def _done_keys(table: Any, name: str, version: str, options: str, legacy: bool) -> set[tuple[str, int]]:
    t = table.read(["problem_id", "sample_index", "verifier", "verifier_version", "verifier_options"])
    if t.num_rows == 0:
        return set()
    t = t.filter(set_mask(t, name, version, options, legacy))
    return set(zip(t["problem_id"].to_pylist(), t["sample_index"].to_pylist(), strict=True))


class _Executor:
    """Runs checks the way the verifier wants: inline, via its `check_batch`, as Ray tasks, or in the worker
    pool (for `solve`; `verify` runs pooled checks in `_verify_pooled`)."""

    def __init__(
        self,
        verifier: Verifier,
        name: str,
        options: dict[str, Any],
        workers: int,
        timeout: float,
        ray: str | None = None,
    ) -> None:
        self.verifier, self.name, self.options = verifier, name, options
        self.workers, self.timeout, self.ray = workers, timeout, ray
        self.ray_tasks = self.ray_failed = 0
        self.pool: CheckPool | None = None
        self.kills = 0

    def run(self, problems: dict[str, Problem], groups: Sequence[Group]) -> Iterator[tuple[Group, Verdict]]:
        if not groups:
            return
        v = self.verifier
        if v.runs_inline:
            judge = v.check_extract if isinstance(v, ChecksExtract) else None  # skips extracting again
            for g in groups:
                if judge is not None and g.extract is not None:
                    yield g, _safe_check(judge, problems[g.problem_id], g.extract)
                else:
                    yield g, _safe_check(v.check, problems[g.problem_id], g.text)
        elif self.ray is not None:
            yield from self._on_ray(problems, groups)
        elif isinstance(v, ChecksBatch):
            yield from self._batched(v, problems, groups)
        else:  # `solve`'s checks; `verify` runs pooled checks in `_verify_pooled`, overlapping extraction
            yield from self._pooled(problems, groups)

    def _batched(
        self, verifier: ChecksBatch, problems: dict[str, Problem], groups: Sequence[Group]
    ) -> Iterator[tuple[Group, Verdict]]:
        if isinstance(
            verifier, StreamsBatch
        ):  # verdicts as each check ends, so the sink's 2 s clock saves them
            items = [(problems[g.problem_id], g.text) for g in groups]
            seen: set[int] = set()
            try:
                for i, verdict in verifier.iter_batch(items):
                    seen.add(i)
                    yield groups[i], verdict
            except MonkeysError:
                raise  # the user must fix something (a missing sandbox): one line, not error verdicts
            except Exception as exc:
                lost = Verdict("error", None, f"iter_batch raised {type(exc).__name__}: {str(exc)[:200]}")
                yield from ((g, lost) for i, g in enumerate(groups) if i not in seen)
            return
        step = 256
        for i in range(0, len(groups), step):
            chunk = groups[i : i + step]
            try:
                verdicts = list(verifier.check_batch([(problems[g.problem_id], g.text) for g in chunk]))
                if len(verdicts) != len(chunk):
                    raise RuntimeError(
                        f"check_batch returned {len(verdicts)} verdicts for {len(chunk)} items"
                    )
            except MonkeysError:
                raise  # the user must fix something (a missing sandbox): one line, not error verdicts
            except Exception as exc:
                verdicts = [
                    Verdict("error", None, f"check_batch raised {type(exc).__name__}: {str(exc)[:200]}")
                ] * len(chunk)
            yield from zip(chunk, verdicts, strict=True)

    def _on_ray(
        self, problems: dict[str, Problem], groups: Sequence[Group]
    ) -> Iterator[tuple[Group, Verdict]]:
        from monkeys.verifiers.stage.ray_pool import RayChecks

        module = type(self.verifier).__module__
        assert self.ray is not None
        checks = RayChecks(
            self.ray, self.name, self.options, self.timeout, (module,), isinstance(self.verifier, ChecksBatch)
        )
        try:
            yield from checks.run(problems, groups)
        finally:
            self.ray_tasks += checks.tasks
            self.ray_failed += checks.failed_tasks

    def _pooled(
        self, problems: dict[str, Problem], groups: Sequence[Group]
    ) -> Iterator[tuple[Group, Verdict]]:
        if self.pool is None:
            n = min(self.workers, max(1, len(groups)))
            self.pool = _make_pool(self.verifier, self.name, self.options, n, self.timeout)
        lookup = {id(g): g for g in groups}
        try:
            for key, verdict in self.pool.run(_batches(problems, groups)):
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
    """Fans verdicts out to their samples' rows and appends them to the run (and pass/fail verdicts to the
    cache) every few seconds through the store's `ShardBuffer`; the cache is written first, so a kill
    between the two costs no re-check."""

    def __init__(
        self,
        table: Any,
        name: str,
        version: str,
        cache: VerdictCache | None,
        problems: dict[str, Problem],
        options: str,
    ) -> None:
        self.name, self.version, self.cache, self.problems = name, version, cache, problems
        self.cache_version = cache_version(version, options)
        self.pending_cache: list[tuple[str, str, Verdict]] = []
        self.buffer = ShardBuffer(
            table.append,
            VERDICTS,
            FLUSH_SECONDS,
            FLUSH_ROWS,
            constants={"verifier": name, "verifier_version": version, "verifier_options": options},
            before_flush=self._write_cache,
        )
        self._pkeys: dict[str, str] = {}

    @property
    def rows_written(self) -> int:
        return self.buffer.written

    @property
    def shards(self) -> int:
        return self.buffer.shards

    def pkey(self, pid: str) -> str:
        k = self._pkeys.get(pid)
        if k is None:
            k = self._pkeys[pid] = problem_key(self.problems[pid])
        return k

    def look_up(self, groups: Sequence[Group]) -> dict[int, Verdict]:
        """Cached verdicts of `groups` (by group id); gives each group its cache item key."""
        if self.cache is None or not groups:
            return {}
        for g in groups:
            g.key = item_key(g.extract, g.text)
        hits = self.cache.get_many(
            self.name, self.cache_version, [(self.pkey(g.problem_id), g.key) for g in groups]
        )
        return {
            id(g): hits[(self.pkey(g.problem_id), g.key)]
            for g in groups
            if (self.pkey(g.problem_id), g.key) in hits
        }

    def write_members(self, g: Group, idxs: list[int], v: Verdict) -> None:
        """Rows of some of `g`'s samples (the verdict is cached when it is checked, not here)."""
        self._row(g.problem_id, idxs, v)

    def cache_only(self, g: Group, v: Verdict) -> None:
        if self.cache is not None:
            self.pending_cache.append((self.pkey(g.problem_id), g.key, v))

    def add_rows(self, rows: list[tuple[str, int, Verdict]]) -> None:
        for pid, idx, v in rows:
            self._row(pid, [idx], v)

    def fan_out(self, g: Group, v: Verdict, cached: bool = False) -> None:
        if not cached:
            self.cache_only(g, v)
        self._row(g.problem_id, g.members, v)

    def _row(self, pid: str, idxs: list[int], v: Verdict) -> None:
        n = len(idxs)
        answer = (
            v.answer
            if v.answer is None or len(v.answer) <= MAX_STORED_ANSWER
            else v.answer[:MAX_STORED_ANSWER]
        )
        cols = {
            "problem_id": [pid] * n,
            "sample_index": idxs,
            "verdict": [v.verdict] * n,
            "answer": [answer] * n,
            "detail": [v.detail] * n,
            "seconds": [float(v.seconds)] * n,
        }
        self.buffer.add(cols, n)

    def _write_cache(self) -> None:
        if self.cache is not None and self.pending_cache:
            self.cache.put_many(self.name, self.cache_version, self.pending_cache)
            self.pending_cache = []

    def flush(self) -> None:
        self.buffer.flush()


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
