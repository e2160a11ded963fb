"""Deduplication: extract every pending sample's answer and group samples by (problem, extract).

Extraction is the one step that touches every sample, so on big batches it is spread over forked children
(one per core): each inherits the batch's texts copy-on-write, runs pure-Python extraction on its share and
sends back only the short extracts. A child that fails costs nothing but time: its share is redone here.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from monkeys.store import Run
from monkeys.tasks.base import Problem
from monkeys.verifiers.base import Verdict, Verifier

PARALLEL_MIN = 20_000  # rows per batch below which forking costs more than it saves

Extract = Any  # str | None, or an error Verdict when extraction raised


@dataclass
class Group:
    """Samples of one problem with the same extract: checked once."""

    problem_id: str
    extract: str | None
    text: str  # one member's completion, handed to `check`
    members: list[int] = field(default_factory=list)
    canary: str = ""  # "gold" / "empty" when the group is (also) a canary
    key: str = ""  # item key (hash) for the cache


def group_key(problem_id: str, extract: str | None, text: str) -> tuple[str, Any]:
    """Samples with an extract group by it; samples without one by their whole text."""
    return (problem_id, extract) if extract is not None else (problem_id, ("text", text))


def group_pending(
    run: Run, verifier: Verifier, problems: dict[str, Problem], done: set[tuple[str, int]], workers: int
) -> tuple[dict[tuple[str, Any], Group], list[tuple[str, int, Verdict]], int, int]:
    """Groups of the samples still without a verdict, error verdicts for samples that cannot be checked,
    and the counts (samples in the run, samples already done)."""
    groups: dict[tuple[str, Any], Group] = {}
    errors: list[tuple[str, int, Verdict]] = []
    total = skipped = 0
    for batch in run.table("samples").iter_batches(["problem_id", "sample_index", "text"]):
        pids = batch.column(0).to_pylist()
        idxs = batch.column(1).to_pylist()
        texts = [t or "" for t in batch.column(2).to_pylist()]
        total += len(pids)
        rows = range(len(pids))
        if done:
            rows = [i for i in rows if (pids[i], idxs[i]) not in done]
            skipped += len(pids) - len(rows)
        known = []
        for i in rows:
            if pids[i] in problems:
                known.append(i)
            else:
                errors.append(
                    (
                        pids[i],
                        idxs[i],
                        Verdict("error", None, f"problem {pids[i]!r} is not among the run's problems"),
                    )
                )
        extracts = extract_rows(verifier, problems, pids, texts, known, workers)
        for i, x in zip(known, extracts, strict=True):
            if isinstance(x, Verdict):
                errors.append((pids[i], idxs[i], x))
                continue
            gk = group_key(pids[i], x, texts[i])
            g = groups.get(gk)
            if g is None:
                g = groups[gk] = Group(pids[i], x, texts[i])
            g.members.append(idxs[i])
    return groups, errors, total, skipped


def extract_rows(
    verifier: Verifier,
    problems: dict[str, Problem],
    pids: list[str],
    texts: list[str],
    rows: Sequence[int],
    workers: int,
) -> list[Extract]:
    """`verifier.extract` of each row, in order, using up to `workers` processes on big batches."""
    if workers < 2 or len(rows) < PARALLEL_MIN or not hasattr(os, "fork"):
        return _extract(verifier, problems, pids, texts, rows)
    ctx = mp.get_context("fork")  # children inherit the texts; they run pure Python and touch no Arrow
    step = -(-len(rows) // workers)
    parts = [rows[i : i + step] for i in range(0, len(rows), step)]
    children = []
    for part in parts[1:]:
        recv, send = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_child, args=(send, verifier, problems, pids, texts, part), daemon=True)
        proc.start()
        send.close()
        children.append((proc, recv, part))
    out = _extract(verifier, problems, pids, texts, parts[0])
    for proc, recv, part in children:
        try:
            out.extend(recv.recv())
        except (EOFError, OSError):
            out.extend(_extract(verifier, problems, pids, texts, part))
        recv.close()
        proc.join()
    return out


def _child(
    conn: Any,
    verifier: Verifier,
    problems: dict[str, Problem],
    pids: list[str],
    texts: list[str],
    rows: Sequence[int],
) -> None:
    try:
        conn.send(_extract(verifier, problems, pids, texts, rows))
    finally:
        conn.close()
        os._exit(0)  # skip the parent's atexit handlers and finalizers


def _extract(
    verifier: Verifier, problems: dict[str, Problem], pids: list[str], texts: list[str], rows: Sequence[int]
) -> list[Extract]:
    extract = verifier.extract  # type: ignore[attr-defined]
    out: list[Extract] = []
    for i in rows:
        try:
            out.append(extract(problems[pids[i]], texts[i]))
        except Exception as exc:
            out.append(Verdict("error", None, f"extract raised {type(exc).__name__}: {str(exc)[:200]}"))
    return out
