"""Deduplication: extract every pending sample's answer and group samples by (problem, extract).

Extraction runs in this process. Spreading it over forked children was measured slower: a child touching
the parent's strings copies their pages (reference counts), which costs more than the extraction itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from monkeys.store import Run
from monkeys.tasks.base import Problem
from monkeys.verifiers.base import Verdict, Verifier

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
    run: Run, verifier: Verifier, problems: dict[str, Problem], done: set[tuple[str, int]]
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
        extracts = _extract(verifier, problems, pids, texts, known)
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
