"""Deduplication: extract every pending sample's answer and group samples by (problem, extract).

Extraction runs in this process. Spreading it over forked children was measured slower: a child touching
the parent's strings copies their pages (reference counts), which costs more than the extraction itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from monkeys.records import Problem
from monkeys.store import Run
from monkeys.verifiers.base import Verdict, Verifier


@dataclass
class Group:
    """Samples of one problem with the same extract: checked once."""

    problem_id: str
    extract: str | None
    text: str  # one member's completion, handed to `check`
    members: list[int] = field(default_factory=list)
    canary: str = ""  # "gold" / "empty" when the group is (also) a canary
    key: str = ""  # item key (hash) for the cache
    written: int = 0  # members whose verdict rows are already written


def group_key(problem_id: str, extract: str | None, text: str) -> tuple[str, Any]:
    """Samples with an extract group by it; samples without one by their whole text."""
    return (problem_id, extract) if extract is not None else (problem_id, ("text", text))


TICK_ROWS = 512  # rows extracted between two calls of `group_pending`'s `tick`


def group_pending(
    run: Run,
    verifier: Verifier,
    problems: dict[str, Problem],
    done: set[tuple[str, int]],
    groups: dict[tuple[str, Any], Group] | None = None,
    on_new: Callable[[Group], None] | None = None,
    on_member: Callable[[Group, int], None] | None = None,
    tick: Callable[[], None] | None = None,
) -> tuple[dict[tuple[str, Any], Group], list[tuple[str, int, Verdict]], int, int]:
    """Groups of the samples still without a verdict, error verdicts for samples that cannot be checked,
    and the counts (samples in the run, samples already done). One pass per row: this loop is the floor
    of `verify`'s cost on cheap verifiers.

    So that checks can run while extraction goes on: samples join the `groups` given (the canaries'), a
    group is passed to `on_new` when it is made and to `on_member` with each sample index it gets, and
    `tick` is called before every TICK_ROWS rows."""
    extract = verifier.extract
    groups = {} if groups is None else groups
    errors: list[tuple[str, int, Verdict]] = []
    total = skipped = 0
    for batch in run.table("samples").iter_batches(
        ["problem_id", "sample_index", "text"], batch_size=TICK_ROWS if tick is not None else 65536
    ):
        if tick is not None:
            tick()
        pids = batch.column(0).to_pylist()
        idxs = batch.column(1).to_pylist()
        texts = batch.column(2).to_pylist()
        total += len(pids)
        for pid, idx, text in zip(pids, idxs, texts, strict=True):
            if done and (pid, idx) in done:
                skipped += 1
                continue
            problem = problems.get(pid)
            if problem is None:
                errors.append(
                    (pid, idx, Verdict("error", None, f"problem {pid!r} is not among the run's problems"))
                )
                continue
            text = text or ""
            try:
                x = extract(problem, text)
            except Exception as exc:
                errors.append(
                    (
                        pid,
                        idx,
                        Verdict("error", None, f"extract raised {type(exc).__name__}: {str(exc)[:200]}"),
                    )
                )
                continue
            gk = group_key(pid, x, text)
            g = groups.get(gk)
            if g is None:
                g = groups[gk] = Group(pid, x, text)
                if on_new is not None:
                    on_new(g)
            g.members.append(idx)
            if on_member is not None:
                on_member(g, idx)
    return groups, errors, total, skipped
