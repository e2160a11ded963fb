"""`monkeys verify --ray`: the checks of a verify run fanned out over a Ray cluster's CPUs.

Everything else stays on the driver: resume, dedup, the verdict cache, canaries and the one writer of the
run's verdicts. The driver sends each problem's deduplicated checks in small batches as Ray tasks
(`num_cpus=1`); a task builds the verifier once per Ray worker process and checks its batch the way the
verifier does locally, with the same hard per-check time limit: answer checks in a killable worker process
(the same `CheckPool` as `monkeys verify`), code verifiers through their `check_batch` on sandboxes of
that node. Results come back as plain records in completion order. A task whose worker dies is retried
once elsewhere; after that its checks are `error`, never `pass`. Inline verifiers (microsecond checks that
cannot hang, like `gsm8k`) stay on the driver: shipping them would cost more than checking them.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterator, Sequence
from typing import Any

from monkeys.errors import UsageError
from monkeys.records import Problem, Verdict

NAMESPACE = "monkeys"
BATCH_ITEMS = 32
RETRIES = 1

# One verifier (or killable check pool) per Ray worker process, built on its first task.
_LOCAL: dict[tuple[Any, ...], Any] = {}


def connect(address: str) -> Any:
    """Join the cluster at `address` ("auto", "HOST:PORT", or "local" for a throw-away one on this host)."""
    try:
        import ray
    except ImportError:
        raise UsageError("--ray needs Ray: pip install 'monkeys[ray]'") from None
    if not ray.is_initialized():
        try:
            ray.init(
                address=None if address == "local" else address, namespace=NAMESPACE, log_to_driver=False
            )
        except ConnectionError as exc:
            raise UsageError(
                f"no Ray cluster answers at {address!r} ({exc}); start one with `ray start --head` "
                "or pass --ray local"
            ) from None
    return ray


def check_remote(
    name: str,
    options: dict[str, Any],
    timeout: float,
    imports: Sequence[str],
    batched: bool,
    problem: Problem,
    items: list[tuple[int, str]],
) -> list[tuple[int, Verdict]]:
    """The body of one Ray task: check `items` (key, completion) of `problem` on this worker."""
    import importlib

    for module in imports:
        importlib.import_module(module)
    key = (name, tuple(sorted(options.items())), timeout, batched)
    if batched:
        from monkeys.verifiers.base import VERIFIERS

        verifier = _LOCAL.get(key)
        if verifier is None:
            verifier = _LOCAL[key] = VERIFIERS.create(name, **options)
        verdicts = verifier.check_batch([(problem, text) for _, text in items])
        return [(k, v) for (k, _), v in zip(items, verdicts, strict=True)]
    from monkeys.verifiers.stage.pool import Batch, CheckPool

    pool = _LOCAL.get(key)
    if pool is None:
        pool = _LOCAL[key] = CheckPool(name, options, 1, timeout, imports=tuple(imports))
    return [(int(k), v) for k, v in pool.run([Batch(problem, deque(items))])]  # type: ignore[call-overload]


class RayChecks:
    """Runs groups of checks as Ray tasks and yields (group, verdict) as tasks finish."""

    def __init__(
        self,
        address: str,
        name: str,
        options: dict[str, Any],
        timeout: float,
        imports: Sequence[str],
        batched: bool,
    ) -> None:
        self.ray = connect(address)
        self.name, self.options, self.timeout = name, options, timeout
        self.imports, self.batched = tuple(imports), batched
        self._task = self.ray.remote(num_cpus=1, max_retries=RETRIES)(check_remote)
        self.failed_tasks = 0
        self.tasks = 0

    def run(self, problems: dict[str, Problem], groups: Sequence[Any]) -> Iterator[tuple[Any, Verdict]]:
        by_problem: dict[str, list[int]] = defaultdict(list)
        for i, g in enumerate(groups):
            by_problem[g.problem_id].append(i)
        pending: dict[Any, list[int]] = {}
        for pid, idx in by_problem.items():
            for j in range(0, len(idx), BATCH_ITEMS):
                chunk = idx[j : j + BATCH_ITEMS]
                items = [(i, groups[i].text) for i in chunk]
                ref = self._task.remote(
                    self.name, self.options, self.timeout, self.imports, self.batched, problems[pid], items
                )
                pending[ref] = chunk
                self.tasks += 1
        while pending:
            ready, _ = self.ray.wait(list(pending), num_returns=1)
            ref = ready[0]
            chunk = pending.pop(ref)
            try:
                results = self.ray.get(ref)
            except Exception as exc:  # the task failed on every try (its worker died, or the check raised)
                self.failed_tasks += 1
                why = f"the Ray task failed: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
                for i in chunk:
                    yield groups[i], Verdict("error", None, why)
                continue
            for i, verdict in results:
                yield groups[i], verdict
