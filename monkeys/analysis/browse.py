"""Looking at a run: its problems with pass rates, and samples with their verdicts, filtered.

Read-only: nothing here writes the store. Texts are model output, so untrusted: `safe_text` makes them
printable on a terminal (no escape sequences, no carriage returns that overwrite what was printed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from monkeys.errors import MonkeysError
from monkeys.store import Run
from monkeys.store.schema import VERDICT_VALUES

# C0 controls but tab and newline, DEL, and C1 controls (CSI, OSC...): shown as \xNN, never interpreted
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# invisible format characters that reorder or hide text (bidi overrides, zero-width)
_FORMAT = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def safe_text(text: str | None, limit: int | None = 2000) -> str:
    """`text` with control and bidi characters made visible, cut to `limit` characters (None: whole)."""
    if text is None:
        return "<none>"
    if text == "":
        return "<empty>"
    cut = text if limit is None or len(text) <= limit else text[:limit]
    shown = _FORMAT.sub(
        lambda m: f"\\u{ord(m.group()):04x}", _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", cut)
    )
    if cut is not text:
        shown += f" … [{len(text) - limit:,} more characters; --full shows all]"  # type: ignore[operator]
    return shown


@dataclass(frozen=True)
class ProblemRow:
    problem_id: str
    samples: int
    passed: int | None  # None: no verdicts of the chosen verifier
    first_pass: int | None  # the lowest sample index that passed
    empty: int  # samples with an empty text


@dataclass(frozen=True)
class SampleView:
    problem_id: str
    sample_index: int
    text: str
    completion_tokens: int | None
    finish_reason: str | None
    verdict: str | None
    answer: str | None
    detail: str | None


@dataclass
class RunView:
    path: str
    task: str
    model: str
    k: int
    verifier: str | None
    verifiers: list[str]
    verdict_counts: dict[str, int]
    problems: list[ProblemRow] = field(default_factory=list)


def _pick_verifier(run: Run, verifier: str | None, verdicts: pd.DataFrame) -> str | None:
    have = sorted(verdicts["verifier"].unique()) if not verdicts.empty else []
    if verifier is not None:
        if verifier not in have:
            raise MonkeysError(
                f"run {run.path} has no verdicts of verifier {verifier!r}"
                + (f"; it has: {', '.join(have)}" if have else "; run `monkeys verify` first")
            )
        return verifier
    task = run.manifest.get("task", {})
    default = task.get("default_verifier") if isinstance(task, dict) else None
    if default in have:
        return str(default)
    return have[0] if have else None


def overview(run: Run, verifier: str | None = None) -> RunView:
    """Per problem: samples, passes of `verifier` (default: the task's), first passing index, empties."""
    m = run.manifest
    samples = run.samples(["problem_id", "sample_index", "text"])
    verdicts = run.verdicts()
    chosen = _pick_verifier(run, verifier, verdicts)
    ours = verdicts[verdicts["verifier"] == chosen] if chosen else verdicts.iloc[0:0]
    task = m.get("task", {})
    view = RunView(
        path=str(run.path),
        task=str(task.get("name", "?") if isinstance(task, dict) else task),
        model=str(m.get("model", "?")),
        k=int(m.get("k", 0)),
        verifier=chosen,
        verifiers=sorted(verdicts["verifier"].unique()) if not verdicts.empty else [],
        verdict_counts={v: int((ours["verdict"] == v).sum()) for v in VERDICT_VALUES},
    )
    counts = samples.groupby("problem_id").size()
    empties = samples.assign(empty=samples["text"].fillna("").eq("")).groupby("problem_id")["empty"].sum()
    passes = ours[ours["verdict"] == "pass"]
    n_pass = passes.groupby("problem_id").size()
    first = passes.groupby("problem_id")["sample_index"].min()
    for pid in run.problem_ids():
        view.problems.append(
            ProblemRow(
                problem_id=pid,
                samples=int(counts.get(pid, 0)),
                passed=None if chosen is None else int(n_pass.get(pid, 0)),
                first_pass=None if pid not in first.index else int(first[pid]),
                empty=int(empties.get(pid, 0)),
            )
        )
    return view


def problem_fields(run: Run, problem_id: str) -> dict[str, Any]:
    """The stored problem row: prompt, reference and the task's own fields."""
    problems = run.problems()
    row = problems[problems["problem_id"].astype(str) == problem_id]
    if row.empty:
        known = ", ".join(map(str, problems["problem_id"].head(5)))
        raise MonkeysError(f"run {run.path} has no problem {problem_id!r}; its problems start {known}, ...")
    return {k: v for k, v in row.iloc[0].to_dict().items() if not (isinstance(v, float) and v != v)}


def samples(
    run: Run,
    problem_id: str | None = None,
    verdict: str | None = None,
    verifier: str | None = None,
    sample_index: int | None = None,
    limit: int | None = 5,
) -> tuple[str | None, list[SampleView], int]:
    """Samples (in problem, index order) with the chosen verifier's verdicts, filtered; also the number that
    matched before `limit` cut them."""
    if verdict is not None and verdict not in VERDICT_VALUES:
        raise MonkeysError(f"--verdict must be one of {', '.join(VERDICT_VALUES)}, got {verdict!r}")
    if problem_id is not None and problem_id not in set(run.problem_ids()):
        problem_fields(run, problem_id)  # raises the one-line error
    df = run.samples(["problem_id", "sample_index", "text", "completion_tokens", "finish_reason"])
    verdicts = run.verdicts()
    chosen = _pick_verifier(run, verifier, verdicts)
    if problem_id is not None:
        df = df[df["problem_id"] == problem_id]
    if sample_index is not None:
        df = df[df["sample_index"] == sample_index]
    if chosen is not None:
        ours = verdicts.loc[
            verdicts["verifier"] == chosen, ["problem_id", "sample_index", "verdict", "answer", "detail"]
        ]
        df = df.merge(ours, on=["problem_id", "sample_index"], how="left")
    else:
        df = df.assign(verdict=None, answer=None, detail=None)
    if verdict is not None:
        if chosen is None:
            raise MonkeysError(f"run {run.path} has no verdicts to filter by; run `monkeys verify` first")
        df = df[df["verdict"] == verdict]
    df = df.sort_values(
        ["problem_id", "sample_index"], key=lambda s: s if s.name != "problem_id" else s.map(_natural)
    )
    matched = len(df)
    if limit is not None:
        df = df.head(limit)

    def opt(v: Any) -> Any:
        return None if v is None or (isinstance(v, float) and v != v) else v

    out = [
        SampleView(
            problem_id=str(r.problem_id),
            sample_index=int(r.sample_index),
            text="" if opt(r.text) is None else str(r.text),
            completion_tokens=None if opt(r.completion_tokens) is None else int(r.completion_tokens),
            finish_reason=opt(r.finish_reason),
            verdict=opt(r.verdict),
            answer=opt(r.answer),
            detail=opt(r.detail),
        )
        for r in df.itertuples(index=False)
    ]
    return chosen, out, matched


def _natural(pid: str) -> tuple[str, int]:
    """Problem ids in natural order: "2" before "10", "HumanEval/2" before "HumanEval/10"."""
    tail = re.search(r"(\d+)$", pid)
    return (pid[: tail.start()], int(tail.group(1))) if tail else (pid, -1)
