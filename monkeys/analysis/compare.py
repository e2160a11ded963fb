"""Coverage against cost for several runs: curves with fitted laws, the cheapest run for a target coverage,
and the budgets where one run overtakes another.

Coverage at k is the unbiased pass@k (coverage.py) with a bootstrap band over problems; a fitted law
(fits.py, the paper's `log c = a·k^b` unless asked otherwise) carries each curve past the samples drawn,
with its bootstrap band. Every cost axis is linear in k (cost.py), so a budget buys a definite (fractional)
k per problem, and comparing runs at equal cost is comparing their curves at the k each budget buys.
Coverage between drawn k is interpolated linearly in log k; beyond a run's drawn k it is the fitted law's
and is labelled `extrapolated`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from monkeys.analysis.cost import RunCost
from monkeys.analysis.coverage import bootstrap_coverage, coverage, curve_ks, interval, log_spaced_ks
from monkeys.analysis.fits import FIT_POINTS, Fit, fit_neg_log_power_law, fit_power_law
from monkeys.errors import MonkeysError


def _neg_log_law(ks: np.ndarray, cov: np.ndarray, boot: np.ndarray | None) -> Fit:
    """-log c = A k^-B on a coverage curve (its -log c taken from the curve itself)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        neg_log = np.where(cov > 0, -np.log(cov), np.nan)
    return fit_neg_log_power_law(ks, cov, neg_log, boot)


LAWS = {"power_law": fit_power_law, "neg_log_power_law": _neg_log_law}
K_LIMIT = 1e9  # extrapolation stops here: no target is "reached" by a run needing more samples per problem
EXTRAPOLATE_DECADES = 2.0  # plotted fits run this many decades past the samples drawn


@dataclass
class Curve:
    """One run's measured coverage curve with its band, and the fitted law that extends it."""

    run: RunCost
    ks: np.ndarray
    cov: np.ndarray
    low: np.ndarray
    high: np.ndarray
    fit: Fit | None  # None when neither law can be fitted (the curve is then measured only)
    fit_note: str | None = None

    @property
    def n(self) -> int:
        return int(self.ks[-1])

    def at_k(self, k: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Coverage, low, high at fractional k (nan below 1), and whether each value is extrapolated."""
        k = np.atleast_1d(np.asarray(k, dtype=np.float64))
        out, lo, hi = (np.full(k.shape, np.nan) for _ in range(3))
        inside = (k >= 1) & (k <= self.n)
        lk = np.log(self.ks.astype(np.float64))
        out[inside] = np.interp(np.log(k[inside]), lk, self.cov)
        lo[inside] = np.interp(np.log(k[inside]), lk, self.low)
        hi[inside] = np.interp(np.log(k[inside]), lk, self.high)
        beyond = k > self.n
        if self.fit is not None and beyond.any():
            # coverage never falls as k grows: a law fitted below the measured end does not pull it down
            floor = self.cov[-1]
            out[beyond] = np.maximum(self.fit.predict(k[beyond]), floor)
            band = self.fit.predict_interval(k[beyond])
            lo[beyond], hi[beyond] = np.maximum(band[0], self.low[-1]), np.maximum(band[1], self.high[-1])
        return out, lo, hi, beyond


def build_curve(run: RunCost, law: str, reps: int, rng: np.random.Generator) -> Curve:
    counts = run.counts
    n = counts.max_k
    ks = curve_ks(n)
    cov = coverage(counts.n, counts.c, ks)
    if reps > 1 and counts.num_problems > 1:
        low, high = interval(bootstrap_coverage(counts.n, counts.c, ks, reps, rng))
    else:
        low, high = cov.copy(), cov.copy()
    fks = log_spaced_ks(n, FIT_POINTS)
    fcov = coverage(counts.n, counts.c, fks)
    fboot = (
        bootstrap_coverage(counts.n, counts.c, fks, reps, rng)
        if reps > 1 and counts.num_problems > 1
        else None
    )
    note = None
    fit: Fit | None = None
    for name in [law, *(m for m in LAWS if m != law)]:
        candidate = LAWS[name](fks, fcov, fboot)
        if not candidate.degenerate:
            fit = candidate
            if name != law:
                note = f"{law} cannot be fitted ({LAWS[law](fks, fcov, None).degenerate}); using {name}"
            break
    if fit is None:
        note = "no law can be fitted (coverage is 0 or 1 throughout); the curve is not extrapolated"
    return Curve(run, ks, cov, low, high, fit, note)


def check_comparable(runs: list[RunCost], shared_problems: bool) -> list[RunCost]:
    """Runs on one comparison must be of one task and one problem set, or be cut to the shared problems."""
    from monkeys.analysis.outcomes import Counts

    tasks = {r.task for r in runs}
    if len(tasks) > 1:
        raise MonkeysError(
            f"the runs are on different tasks ({', '.join(sorted(tasks))}); compare runs of one task"
        )
    sets = [set(r.counts.problems.tolist()) for r in runs]
    if all(s == sets[0] for s in sets):
        return runs
    if not shared_problems:
        sizes = ", ".join(f"{r.name}: {len(s)}" for r, s in zip(runs, sets, strict=True))
        raise MonkeysError(
            f"the runs hold different problem sets ({sizes} problems, {len(set.intersection(*sets))} shared); "
            "pass --shared-problems to compare them on the shared problems"
        )
    shared = set.intersection(*sets)
    if not shared:
        raise MonkeysError("the runs share no problem ids; compare runs of one task and problem set")
    out = []
    for r in runs:
        keep = np.isin(r.counts.problems, list(shared))
        c = r.counts
        sub = Counts(
            c.name,
            c.problems[keep],
            c.n[keep],
            c.c[keep],
            None if c.subjects is None else c.subjects[keep],
            (*c.notes, f"compared on {int(keep.sum())} problems shared by all runs"),
        )
        axes = {
            name: type(a)(a.name, a.label, a.prefix[keep], a.marginal[keep], a.notes)
            for name, a in r.axes.items()
        }
        if "samples" in axes:
            m = int(keep.sum())
            axes["samples"] = type(axes["samples"])(
                "samples", axes["samples"].label, np.zeros(m), np.full(m, 1.0 / m)
            )
        out.append(
            RunCost(
                r.name, r.task, r.model, sub, axes, dict(r.unavailable), r.size, r.price, r.timing, r.tokens
            )
        )
    return out


def common_axes(runs: list[RunCost], asked: list[str] | None) -> list[str]:
    """The axes to compare on: those asked (each must be available for every run), else all shared ones."""
    from monkeys.analysis.cost import AXES

    if asked:
        for axis in asked:
            for r in runs:
                if axis not in r.axes:
                    raise MonkeysError(f"{r.name}: no {axis} axis: {r.unavailable.get(axis, 'unknown axis')}")
        return list(asked)
    return [a for a in AXES if all(a in r.axes for r in runs)]


def target_k(curve: Curve, target: float) -> dict[str, Any]:
    """The fewest samples per problem that reach `target` coverage: measured when the drawn samples reach it,
    else solved from the fitted law (with the k range over which its band crosses the target)."""
    if curve.cov[-1] >= target:
        from monkeys.analysis.coverage import coverage as cov_at

        c = curve.run.counts
        every = np.arange(1, curve.n + 1)
        full = cov_at(c.n, c.c, every)
        k = int(every[np.argmax(full >= target)])
        return {"k": float(k), "k_low": float(k), "k_high": float(k), "extrapolated": False, "reached": True}
    if curve.fit is None:
        return {"reached": False, "why": curve.fit_note or "no fitted law", "extrapolated": True}
    grid = np.unique(np.geomspace(curve.n, K_LIMIT, 4000))
    pred = curve.fit.predict(grid)
    lo, hi = curve.fit.predict_interval(grid)

    def first(values: np.ndarray) -> float | None:
        hit = np.flatnonzero(values >= target)
        return float(grid[hit[0]]) if hit.size else None

    k = first(pred)
    if k is None:
        return {
            "reached": False,
            "extrapolated": True,
            "law": curve.fit.method,
            "why": f"the fitted {curve.fit.method} stays below {target} up to k={K_LIMIT:.0e} "
            f"(predicts {float(pred[-1]):.4f})",
        }
    return {
        "k": k,
        "k_low": first(hi) if np.isfinite(hi).any() else None,
        "k_high": first(lo)
        if np.isfinite(lo).any()
        else None,  # None: the band's lower edge never gets there
        "extrapolated": True,
        "reached": True,
        "law": curve.fit.method,
    }


def cheapest(curves: list[Curve], axes: list[str], target: float) -> dict[str, Any]:
    """Per run the k and cost that reach `target`; per axis the cheapest run. Raises when no run gets there."""
    per_run: dict[str, Any] = {}
    for cv in curves:
        t = target_k(cv, target)
        if t["reached"]:
            t["cost"] = {}
            for a in axes:
                axis = cv.run.axes[a]
                t["cost"][a] = {
                    "value": float(axis.at(t["k"])),
                    "low": None if t.get("k_low") is None else float(axis.at(t["k_low"])),
                    "high": None if t.get("k_high") is None else float(axis.at(t["k_high"])),
                }
        per_run[cv.run.name] = t
    reached = [name for name, t in per_run.items() if t["reached"]]
    if not reached:
        why = "; ".join(f"{name}: {t['why']}" for name, t in per_run.items())
        raise MonkeysError(
            f"no run reaches coverage {target}, even extrapolated ({why}); lower --target-coverage"
        )
    best = {a: min(reached, key=lambda name: per_run[name]["cost"][a]["value"]) for a in axes}
    return {"target": target, "runs": per_run, "cheapest": best}


def crossovers(curves: list[Curve], axis: str, points: int = 600) -> list[dict[str, Any]]:
    """Budgets (on `axis`) where the better of two runs changes, over the range both can be read at
    (drawn samples, or the fitted law up to EXTRAPOLATE_DECADES past them)."""
    out: list[dict[str, Any]] = []
    for i, a in enumerate(curves):
        for b in curves[i + 1 :]:
            lo = max(float(a.run.axes[axis].at(1.0)), float(b.run.axes[axis].at(1.0)))
            ha, hb = (
                float(cv.run.axes[axis].at(cv.n * (10**EXTRAPOLATE_DECADES if cv.fit else 1.0)))
                for cv in (a, b)
            )
            hi = min(ha, hb)
            if not hi > lo > 0:
                continue
            x = np.geomspace(lo, hi, points)
            ca, _, _, ea = a.at_k(a.run.axes[axis].k_at(x))
            cb, _, _, eb = b.at_k(b.run.axes[axis].k_at(x))
            d = ca - cb
            ok = np.isfinite(d)
            sign = np.sign(d)
            for j in np.flatnonzero(ok[:-1] & ok[1:] & (sign[:-1] * sign[1:] < 0)):
                # linear interpolation in log cost between the two grid points that bracket the sign change
                t = d[j] / (d[j] - d[j + 1])
                xc = float(np.exp(np.log(x[j]) + t * (np.log(x[j + 1]) - np.log(x[j]))))
                ka, kb = float(a.run.axes[axis].k_at(xc)), float(b.run.axes[axis].k_at(xc))
                cov_c = float(a.at_k(np.array([ka]))[0][0])
                ahead = a.run.name if d[j + 1] > 0 else b.run.name
                out.append(
                    {
                        "axis": axis,
                        "runs": [a.run.name, b.run.name],
                        "cost": xc,
                        "k": {a.run.name: ka, b.run.name: kb},
                        "coverage": cov_c,
                        "cheaper_above": ahead,
                        "extrapolated": bool(ea[j] or ea[j + 1] or eb[j] or eb[j + 1]),
                    }
                )
    return out


def curve_doc(cv: Curve, axes: list[str]) -> dict[str, Any]:
    """Every plotted number of one run: measured points, fitted curve with band, both on every axis."""
    doc: dict[str, Any] = {
        "k": cv.ks.tolist(),
        "coverage": cv.cov.tolist(),
        "coverage_low": cv.low.tolist(),
        "coverage_high": cv.high.tolist(),
        "cost": {a: cv.run.axes[a].at(cv.ks).tolist() for a in axes},
    }
    if cv.fit is not None:
        fk = np.geomspace(1, cv.n * 10**EXTRAPOLATE_DECADES, 200)
        lo, hi = cv.fit.predict_interval(fk)
        doc["fit"] = {
            **cv.fit.summary(),
            "k": fk.tolist(),
            "coverage": cv.fit.predict(fk).tolist(),
            "low": lo.tolist(),
            "high": hi.tolist(),
            "cost": {a: cv.run.axes[a].at(fk).tolist() for a in axes},
        }
    if cv.fit_note:
        doc["fit_note"] = cv.fit_note
    return doc


def compare(
    runs: list[RunCost],
    axes: list[str] | None = None,
    target: float | None = None,
    law: str = "power_law",
    reps: int = 200,
    seed: int = 0,
    shared_problems: bool = False,
) -> tuple[dict[str, Any], list[Curve]]:
    """The whole comparison as a JSON-ready document, and the curves behind it (for plots)."""
    if law not in LAWS:
        raise MonkeysError(f"unknown law {law!r}; use one of {', '.join(LAWS)}")
    if target is not None and not 0 < target <= 1:
        raise MonkeysError(f"--target-coverage must be in (0, 1], got {target}")
    if len({r.name for r in runs}) != len(runs):
        raise MonkeysError("two runs have the same name; give each run directory its own name")
    runs = check_comparable(runs, shared_problems)
    use = common_axes(runs, axes)
    rng = np.random.default_rng(seed)
    curves = [build_curve(r, law, reps, rng) for r in runs]
    doc: dict[str, Any] = {
        "axes": use,
        "law": law,
        "bootstrap": reps,
        "runs": {cv.run.name: {**cv.run.summary(), "curve": curve_doc(cv, use)} for cv in curves},
        "crossovers": [c for a in use for c in crossovers(curves, a)],
    }
    if target is not None:
        doc["target"] = cheapest(curves, use, target)
    return doc, curves
