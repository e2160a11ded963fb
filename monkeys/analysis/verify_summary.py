"""What `monkeys verify` prints: coverage at k = 1, 10, 100, ..., verdict counts, and agreement with the
run's other verifiers (such as labels brought in by `monkeys import`).

Coverage is the mean over problems of the unbiased pass@k estimator (`monkeys.analysis.coverage`), with a
95 % bootstrap interval over problems. `timeout` and `error` verdicts count as not passing. k runs up to the
fewest samples any problem has, so every problem contributes to every k.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from monkeys.analysis.coverage import bootstrap_coverage, coverage, interval
from monkeys.store import Run
from monkeys.store.schema import VERDICT_VALUES

BOOTSTRAP_REPS = 1000


def summary_ks(n_min: int) -> list[int]:
    """1, 10, 100, ... up to n_min, and n_min itself."""
    ks: list[int] = []
    k = 1
    while k <= n_min:
        ks.append(k)
        k *= 10
    if ks and ks[-1] != n_min:
        ks.append(n_min)
    return ks


def summarize(run: Run, verifier: str) -> dict[str, Any]:
    """The JSON `monkeys verify --json` writes: verifier, coverage, verdicts, agreement (and a little more)."""
    df = run.verdicts()
    ours = df[df["verifier"] == verifier] if not df.empty else df
    counts = (
        {v: int((ours["verdict"] == v).sum()) for v in VERDICT_VALUES}
        if not ours.empty
        else dict.fromkeys(VERDICT_VALUES, 0)
    )
    out: dict[str, Any] = {
        "verifier": verifier,
        "version": str(ours["verifier_version"].iloc[0]) if not ours.empty else None,
        "problems": 0,
        "samples": int(len(ours)),
        "coverage": {},
        "coverage_ci95": {},
        "verdicts": counts,
        "agreement": {},
        "warnings": [],
    }
    if ours.empty:
        return out
    per = ours.assign(ok=ours["verdict"] == "pass").groupby("problem_id")["ok"].agg(["size", "sum"])
    n = per["size"].to_numpy(np.int64)
    c = per["sum"].to_numpy(np.int64)
    ks = summary_ks(int(n.min()))
    cov = coverage(n, c, ks)
    lo, hi = interval(bootstrap_coverage(n, c, ks, BOOTSTRAP_REPS, np.random.default_rng(0)))
    out["problems"] = int(len(per))
    out["coverage"] = {str(k): float(v) for k, v in zip(ks, cov, strict=True)}
    out["coverage_ci95"] = {str(k): [float(a), float(b)] for k, a, b in zip(ks, lo, hi, strict=True)}
    for other in sorted(set(df["verifier"]) - {verifier}):
        out["agreement"][other] = agreement(ours, df[df["verifier"] == other])
    out["warnings"] = verifier_warnings(run, verifier, out["agreement"])
    return out


LOW_AGREEMENT = 0.95


def verifier_warnings(run: Run, verifier: str, agreements: dict[str, dict[str, Any]]) -> list[str]:
    """One line when `verifier` is not the task's default and nothing shows it grades this task alike."""
    task = run.manifest.get("task", {})
    name = task.get("name") if isinstance(task, dict) else None
    default = task.get("default_verifier") if isinstance(task, dict) else None
    if not default or verifier == default:
        return []
    theirs = agreements.get(default)
    if theirs is None or theirs["rate"] is None:
        return [
            f"warning: {verifier} is not the verifier of task {name} ({default}) and its verdicts are unchecked; "
            f"compare with `monkeys verify --run {run.path}` (the task's own verifier)"
        ]
    if theirs["rate"] < LOW_AGREEMENT:
        return [
            f"warning: {verifier} is not the verifier of task {name} and agrees with {default} on only "
            f"{100 * theirs['rate']:.1f}% of {theirs['samples']} samples: its coverage is likely wrong for "
            f"this task; drop --verifier to use {default}"
        ]
    return []


def agreement(ours: pd.DataFrame, theirs: pd.DataFrame) -> dict[str, Any]:
    """How often two verifiers agree on pass vs not-pass, over the samples both graded."""
    m = ours[["problem_id", "sample_index", "verdict"]].merge(
        theirs[["problem_id", "sample_index", "verdict"]],
        on=["problem_id", "sample_index"],
        suffixes=("_ours", "_theirs"),
    )
    a = (m["verdict_ours"] == "pass").to_numpy()
    b = (m["verdict_theirs"] == "pass").to_numpy()
    total = int(len(m))
    agree = int((a == b).sum())
    return {
        "samples": total,
        "agree": agree,
        "rate": agree / total if total else None,
        "both_pass": int((a & b).sum()),
        "both_fail": int((~a & ~b).sum()),
        "ours_pass_theirs_fail": int((a & ~b).sum()),
        "ours_fail_theirs_pass": int((~a & b).sum()),
    }


@dataclass(frozen=True)
class Agreement:
    """Pass vs not-pass agreement of two verifiers over the samples both graded."""

    samples: int
    agree: int
    rate: float | None
    both_pass: int
    both_fail: int
    ours_pass_theirs_fail: int
    ours_fail_theirs_pass: int


@dataclass(frozen=True)
class VerifySummary:
    """`summarize`'s numbers, typed: coverage and its interval by k, verdict counts, agreement."""

    verifier: str
    version: str | None
    problems: int
    samples: int
    coverage: dict[int, float]
    coverage_ci95: dict[int, tuple[float, float]]
    verdicts: dict[str, int]
    agreement: dict[str, Agreement]
    warnings: list[str] = field(default_factory=list)  # e.g. a verifier that is not the task's own

    @classmethod
    def of(cls, run: Run, verifier: str) -> VerifySummary:
        s = summarize(run, verifier)
        return cls(
            s["verifier"],
            s["version"],
            s["problems"],
            s["samples"],
            {int(k): v for k, v in s["coverage"].items()},
            {int(k): (lo, hi) for k, (lo, hi) in s["coverage_ci95"].items()},
            dict(s["verdicts"]),
            {name: Agreement(**a) for name, a in s["agreement"].items()},
            list(s["warnings"]),
        )

    def to_json(self) -> dict[str, Any]:
        """The document `monkeys verify --json` writes (keys as strings, as before)."""
        return {
            "verifier": self.verifier,
            "version": self.version,
            "problems": self.problems,
            "samples": self.samples,
            "coverage": {str(k): v for k, v in self.coverage.items()},
            "coverage_ci95": {str(k): list(v) for k, v in self.coverage_ci95.items()},
            "verdicts": self.verdicts,
            "agreement": {k: asdict(a) for k, a in self.agreement.items()},
            "warnings": list(self.warnings),
        }
