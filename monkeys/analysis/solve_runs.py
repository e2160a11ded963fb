"""Coverage and fits for runs made by `monkeys solve`, with the stopping-time estimator.

`fit-scaling` calls `is_solve_run` and, for a solve run, `solve_fit_scaling` instead of the count-based
path: a solve run's (samples, passes) counts are not a fixed-size sample, so the usual unbiased pass@k
formula would be biased there (see `stopping.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from monkeys.analysis.coverage import curve_ks, interval, report_ks
from monkeys.analysis.fits import fit_neg_log_power_law, fit_power_law
from monkeys.analysis.outcomes import run_verdicts
from monkeys.analysis.results import LawFit
from monkeys.analysis.stopping import Stops, bootstrap_stop_coverage, max_k, read_in_order, stop_coverage
from monkeys.errors import MonkeysError

LEVEL = 0.95


def is_solve_run(run: Any) -> bool:
    return isinstance(run.manifest.get("solve"), dict)


def run_stops(run: Any, verifier: str | None = None) -> Stops:
    """Per-problem (n, s, stopped) read in index order from the run's verdicts, by the run's stop rule."""
    rule = run.manifest["solve"]
    name = verifier or rule.get("verifier")
    if name != rule.get("verifier"):  # its stops were decided by another verifier's verdicts
        raise MonkeysError(
            f"run {run.path} was stopped on verifier {rule.get('verifier')}'s verdicts; estimates from "
            f"{name} would be biased by those stops; drop --verifier"
        )
    _, df = run_verdicts(run, name)
    cap = int(rule["max_per_problem"])
    m = int(rule["successes"])
    majority = rule.get("stop") == "majority"
    n0 = int(rule.get("min_samples", 1))
    ids = [str(p) for p in run.problems()["problem_id"]]
    groups = {pid: g for pid, g in df.groupby("problem_id", sort=False)}
    ns, ss, stopped = [], [], []
    for pid in ids:
        g = groups.get(pid)
        idx = g["sample_index"].to_numpy() if g is not None else np.zeros(0, dtype=np.int64)
        ok = (g["verdict"] == "pass").to_numpy() if g is not None else np.zeros(0, dtype=bool)
        if majority:  # the vote looks at the answers: only the fixed first n0 samples are unbiased
            n, s, _ = read_in_order(idx, ok, n0 + 1, n0)
            ns.append(n), ss.append(s), stopped.append(False)
        else:
            n, s, hit = read_in_order(idx, ok, m, cap)
            ns.append(n), ss.append(s), stopped.append(hit)
    if not ns or min(ns) == 0:
        raise MonkeysError(f"run {run.path} has a problem without verified samples; rerun `monkeys solve`")
    return Stops(np.array(ids), np.array(ns), np.array(ss), np.array(stopped), m, n0 if majority else cap)


@dataclass(frozen=True)
class SolveScaling:
    """`fit-scaling` on a solve run: coverage@k from the stopping-time estimator, with bootstrap intervals over
    problems, at the report ks, and the two coverage laws fitted to the whole curve."""

    estimator: str
    problems: int
    successes: int
    max_k: int
    solved_fraction: float
    samples_read: int
    coverage: tuple[tuple[int, float, float, float], ...]  # (k, coverage, low, high)
    fits: tuple[LawFit, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "estimator": self.estimator,
            "problems": self.problems,
            "successes": self.successes,
            "max_k": self.max_k,
            "solved_fraction": self.solved_fraction,
            "samples_read": self.samples_read,
            "coverage": {str(k): c for k, c, _, _ in self.coverage},
            "coverage_ci": {str(k): [lo, hi] for k, _, lo, hi in self.coverage},
            "fits": {f.method: f.to_json() for f in self.fits},
        }


def solve_fit_scaling(run: Any, reps: int, seed: int, verifier: str | None = None) -> SolveScaling:
    """Coverage@k with bootstrap intervals over problems, and the two coverage laws fitted to it."""
    stops = run_stops(run, verifier)
    top = max_k(stops)
    ks = curve_ks(top)
    cov = stop_coverage(stops, ks)
    rng = np.random.default_rng(seed)
    boot = bootstrap_stop_coverage(stops, ks, reps, rng) if reps > 1 and len(stops.n) > 1 else None
    lo, hi = interval(boot, LEVEL) if boot is not None else (np.full(len(ks), np.nan),) * 2
    at = {int(k): i for i, k in enumerate(ks)}
    with np.errstate(divide="ignore", invalid="ignore"):
        neg_log = np.where(cov > 0, -np.log(cov), np.nan)
    fits = tuple(
        LawFit.of(fit, LEVEL)
        for fit in (fit_power_law(ks, cov, boot), fit_neg_log_power_law(ks, cov, neg_log, boot))
    )
    rule = run.manifest["solve"]
    return SolveScaling(
        estimator="majority: first min_samples samples"
        if rule.get("stop") == "majority"
        else "stopping time",
        problems=len(stops.n),
        successes=stops.m,
        max_k=top,
        solved_fraction=float(np.mean(stops.s > 0)),
        samples_read=int(stops.n.sum()),
        coverage=tuple((k, float(cov[at[k]]), float(lo[at[k]]), float(hi[at[k]])) for k in report_ks(top)),
        fits=fits,
    )
