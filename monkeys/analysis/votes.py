"""Answers, correctness and scores of a run's samples, grouped into votes for selection methods.

Answers are grouped by the verifier's own equivalence (`monkeys.verifiers.answer.grouping.group_answers`), so
`1/2`, `0.5` and `\\frac12` are one vote. When the verifier cannot be built (e.g. labels imported under
their own name) or has no grouping, answers are grouped by exact string, and the report says so.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from monkeys.analysis.outcomes import run_verdicts
from monkeys.analysis.selection import Votes, scorer_as_verifier
from monkeys.errors import MonkeysError

MEAN_LOGPROB = "mean_logprob"


def exact_string_groups(answers: list[str | None]) -> list[int]:
    """Group label per answer by exact string; None (nothing extracted) abstains with -1."""
    ids: dict[str, int] = {}
    return [-1 if a is None else ids.setdefault(a, len(ids)) for a in answers]


def _grouper(run: Any, verifier: str) -> tuple[Any, str]:
    """A function (problem_id, answers) -> labels, and a description of how answers are grouped."""
    try:
        import monkeys.verifiers  # noqa: F401  (registers the built-in verifiers)
        from monkeys.verifiers.answer.grouping import group_answers
        from monkeys.verifiers.base import VERIFIERS
    except ImportError:
        return (
            None,
            "exact string of the extracted answer (monkeys.verifiers.answer.grouping is not available)",
        )
    if verifier not in VERIFIERS:
        return (
            None,
            f"exact string of the extracted answer (no verifier named {verifier!r} to judge equivalence)",
        )
    from monkeys.records import Problem
    from monkeys.verifiers.base import JudgesEquivalence

    checker = VERIFIERS.create(verifier)
    if not isinstance(checker, JudgesEquivalence):
        return None, f"exact string of the extracted answer (verifier {verifier} does not judge equivalence)"
    table = run.problems()
    base = {"problem_id", "prompt", "reference"}
    problems = {}
    for row in table.to_dict("records"):
        fields = {k: v for k, v in row.items() if k not in base}
        problems[str(row["problem_id"])] = Problem(
            str(row["problem_id"]), row["prompt"], row["reference"], fields
        )

    def group(pid: str, answers: list[str | None]) -> list[int]:
        return list(group_answers(checker, problems[pid], answers))

    return group, f"verifier {verifier}'s answer equivalence"


def _sample_scores(run: Any) -> pd.DataFrame:
    """Per-sample scores: every scorer in the scores table, plus mean token logprob from the samples."""
    frames = []
    scores = run.scores()
    _check_present(run, scores)
    if not scores.empty:
        s = scores.drop_duplicates(["scorer", "problem_id", "sample_index"], keep="last")
        frames.append(s.pivot(index=["problem_id", "sample_index"], columns="scorer", values="score"))
    samples = run.samples(["problem_id", "sample_index", "cumulative_logprob", "completion_tokens"])
    if not samples.empty and samples["cumulative_logprob"].notna().any():
        tokens = samples["completion_tokens"].where(samples["completion_tokens"] > 0)
        mean = (samples["cumulative_logprob"] / tokens).to_numpy()
        frames.append(
            pd.DataFrame(
                {MEAN_LOGPROB: mean}, index=pd.MultiIndex.from_frame(samples[["problem_id", "sample_index"]])
            )
        )
    if not frames:
        return pd.DataFrame()
    return pd.concat(frames, axis=1)


def run_votes(run: Any, verifier: str | None = None) -> tuple[list[Votes], dict[str, Any]]:
    """One Votes per problem with verdicts, and facts for the report (verifier, grouping, scorers)."""
    name, df = run_verdicts(run, verifier)
    df = df.sort_values(["problem_id", "sample_index"])
    group, how = _grouper(run, name)
    scores = _sample_scores(run)
    scorers = [c for c in scores.columns if scores[c].notna().any()] if not scores.empty else []
    votes = []
    incomplete: set[str] = set()
    for pid, rows in df.groupby("problem_id", sort=False):
        answers = [
            None if (a is None or (isinstance(a, float) and np.isnan(a))) else str(a) for a in rows["answer"]
        ]
        labels = np.asarray(
            group(str(pid), answers) if group else exact_string_groups(answers), dtype=np.int64
        )
        if len(labels) != len(answers):
            raise MonkeysError(
                f"grouping returned {len(labels)} labels for {len(answers)} answers of problem {pid}"
            )
        per = {}
        if scorers:
            idx = pd.MultiIndex.from_arrays([rows["problem_id"], rows["sample_index"]])
            got = scores.reindex(idx)
            for sc in scorers:
                vals = got[sc].to_numpy(dtype=np.float64)
                if np.isnan(vals).any():
                    incomplete.add(sc)
                per[sc] = vals
        votes.append(Votes(str(pid), labels, (rows["verdict"] == "pass").to_numpy(), per))
    usable = [s for s in scorers if s not in incomplete]
    info = {"verifier": name, "grouping": how, "scorers": usable}
    if incomplete:
        info["scorers_left_out"] = {s: "some samples have no score" for s in sorted(incomplete)}
    if not votes:
        raise MonkeysError(f"run {run.path} has no verdicts to vote with; run `monkeys verify` first")
    return votes, info


def _check_present(run: Any, scores: pd.DataFrame) -> None:
    """Scores must belong to samples the run still holds."""
    if scores.empty:
        return
    held = run.samples(["problem_id", "sample_index"])
    key = pd.MultiIndex.from_frame(scores[["problem_id", "sample_index"]])
    gone = ~key.isin(pd.MultiIndex.from_frame(held))
    if gone.any():
        row = scores[gone].iloc[0]
        raise MonkeysError(
            f"{int(gone.sum())} stored scores of {row['scorer']!r} belong to samples the run no longer holds "
            f"(first: problem {row['problem_id']!r} sample {row['sample_index']}); delete {run.path}/scores "
            "and run `monkeys score` again"
        )


def require_score(info: dict[str, Any], score: str, run: Any) -> None:
    """A one-line error when `select --score NAME` names a score that was never computed (or is partial)."""
    if score in info["scorers"]:
        return
    if score in info.get("scorers_left_out", {}):
        raise MonkeysError(
            f"score {score!r} is missing for some samples of {run.path}; finish it with "
            f"`monkeys score --run {run.path} --scorer ...`"
        )
    have = ", ".join(info["scorers"]) or "none"
    raise MonkeysError(
        f"run {run.path} has no score {score!r} (it has: {have}); compute it with "
        f"`monkeys score --run {run.path} --scorer {score}`"
    )


def score_quality(run: Any, score: str, verifier: str | None = None) -> dict[str, Any] | None:
    """`scorer_as_verifier` for one stored score against the run's verdicts; None without verdicts."""
    try:
        votes, info = run_votes(run, verifier)
    except MonkeysError:
        return None
    if score not in info["scorers"]:
        return None
    return {"verifier": info["verifier"], **scorer_as_verifier(votes, score)}
