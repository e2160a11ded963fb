"""Scaling laws for coverage as the number of samples k grows, each with uncertainty and fit error.

- `power_law`: the paper's exponentiated power law log c = a * k^b (Brown et al., 2024), least squares on
  log coverage at 40 log-spaced k from 1 to n.
- `neg_log_power_law`: -log c = A * k^(-B) (Schaeffer et al., 2025), a straight line fitted to
  log(-log c) against log k at the same points (points where c is exactly 0 or 1 carry no information there).
- distributional fits of the per-problem success rates (see distributional.py).

Both curve laws are fitted to the unbiased coverage curve; their uncertainty comes from refitting on bootstrap
resamples of the problems. Fit error is the mean and std of |coverage - fit| over 100 log-spaced k, as the
paper reports it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from monkeys.analysis.coverage import CoverageTable, curve_ks, log_spaced_ks, report_ks
from monkeys.analysis.distributional import fit_beta_binomial, fit_scaled_beta
from monkeys.analysis.law import FIT_POINTS, Fit
from monkeys.analysis.law import loglog_lines as _loglog_lines
from monkeys.analysis.outcomes import Counts

ERR_POINTS = 100
B_GRID = np.linspace(-4.0, 1.0, 5001)
DISTRIBUTIONAL = ("beta_binomial", "scaled_beta")


POOR_FIT = 0.05  # off the measured coverage by more than this and 2 SEs at some k in the window: flagged


def fit_error(fit: Fit, n: int, cov_fn: Callable[[np.ndarray], np.ndarray]) -> tuple[float, float, float]:
    """Mean, std and max of |coverage - fit| over 100 log-spaced k in [1, n]."""
    ks = log_spaced_ks(n, ERR_POINTS)
    diff = np.abs(cov_fn(ks) - fit.predict(ks))
    return float(np.mean(diff)), float(np.std(diff)), float(np.max(diff))


# -- the paper's power law: log c = a * k^b ---------------------------------------------------------------
def power_law_curve(thetas: np.ndarray, ks: np.ndarray) -> np.ndarray:
    a, b = thetas[:, :1], thetas[:, 1:2]
    return np.exp(a * np.power(np.asarray(ks, dtype=np.float64)[None, :], b))


COARSE = 10  # the b grid is searched at every 10th point first, then around the best of those


def _profile_power_law(y: np.ndarray, ks: np.ndarray) -> np.ndarray:
    """Least squares of y ~ a * k^b for each row of y (R, m), by profiling a out over a fine grid of b
    and refining with a parabola through the best grid point and its neighbours. Returns (R, 2).

    The best grid point is found on every COARSE-th point of the grid first, then among the fine points
    within COARSE of it (a row whose best fine point lands on that window's edge is searched in full), so
    the result is that of a search of the whole grid at a tenth of the cost."""
    logk = np.log(ks.astype(np.float64))
    x = np.exp(np.outer(logk, B_GRID))  # (m, G)
    sxx = (x * x).sum(axis=0)
    yy = (y * y).sum(axis=1, keepdims=True)
    g = len(B_GRID)
    coarse = np.arange(0, g, COARSE)
    sse_c = yy - (y @ x[:, coarse]) ** 2 / sxx[coarse]
    centre = coarse[np.argmin(sse_c, axis=1)]
    window = np.clip(centre[:, None] + np.arange(-COARSE, COARSE + 1)[None, :], 0, g - 1)  # (R, W)
    sxy = np.einsum("rm,mrw->rw", y, x[:, window])
    sse_w = yy - sxy**2 / sxx[window]
    pick = np.argmin(sse_w, axis=1)
    j = window[np.arange(len(y)), pick]
    edge = ((pick == 0) & (j > 0)) | ((pick == window.shape[1] - 1) & (j < g - 1))
    if edge.any():  # not unimodal near the coarse best: search these rows in full
        full = yy[edge] - (y[edge] @ x) ** 2 / sxx
        j[edge] = np.argmin(full, axis=1)
    j = np.clip(j, 1, g - 2)
    three = j[:, None] + np.array([-1, 0, 1])[None, :]
    sse3 = yy - np.einsum("rm,mrw->rw", y, x[:, three]) ** 2 / sxx[three]
    s0, s1, s2 = sse3[:, 0], sse3[:, 1], sse3[:, 2]
    h = B_GRID[1] - B_GRID[0]
    denom = s0 - 2 * s1 + s2
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = np.where(denom > 0, 0.5 * (s0 - s2) / denom, 0.0)
    b = B_GRID[j] + np.clip(shift, -1, 1) * h
    xb = np.exp(np.outer(b, logk))  # (R, m)
    a = (y * xb).sum(axis=1) / (xb * xb).sum(axis=1)
    return np.stack([a, b], axis=1)


def fit_power_law(ks: np.ndarray, cov: np.ndarray, boot: np.ndarray | None) -> Fit:
    """The paper's law on the coverage curve `cov` at `ks`; `boot` (R, m) are bootstrap curves at `ks`."""
    fit = Fit("power_law", ("a", "b"), np.array([np.nan, np.nan]), power_law_curve)
    if len(set(ks.tolist())) < 2:
        fit.degenerate = "one sample per problem: a law in k needs coverage at 2 or more k"
        return fit
    if np.any(cov <= 0):
        fit.degenerate = "coverage is 0 at some k (no problem ever solved); log c = a*k^b cannot be fitted"
        return fit
    if np.all(cov >= 1):
        fit.degenerate = "coverage is 1 at every k; log c = 0 leaves b undefined"
        return fit
    fit.theta = _profile_power_law(np.log(cov)[None, :], ks)[0]
    if fit.theta[1] <= B_GRID[0] + 1e-9 or fit.theta[1] >= B_GRID[-1] - 1e-9:
        fit.notes.append(f"b sits at the search bound {fit.theta[1]:g}; the law does not describe this curve")
    if boot is not None and len(boot) > 1:
        ok = np.all(boot > 0, axis=1)
        fit.draws = _profile_power_law(np.log(boot[ok]), ks)
        fit.uncertainty = f"bootstrap over problems ({int(ok.sum())} refits)"
    fit.extra = {"tail_exponent": float(-fit.theta[1]), "n_points": int(len(ks))}
    return fit


# -- Schaeffer et al.: -log c = A * k^(-B) ----------------------------------------------------------------
def neg_log_power_law_curve(thetas: np.ndarray, ks: np.ndarray) -> np.ndarray:
    A, B = thetas[:, :1], thetas[:, 1:2]
    return np.exp(-A * np.power(np.asarray(ks, dtype=np.float64)[None, :], -B))


def neg_log_weights(cov: np.ndarray, neg_log: np.ndarray, se: np.ndarray | None) -> np.ndarray | None:
    """Inverse-variance weights for log(-log c) by the delta method: sd(log(-log c)) = sd(c) / (c |log c|).
    Points with coverage near 1 have a tiny |log c| and so a huge sd; unweighted, those few points pulled
    the line far from the rest of the curve. None (equal weights) when no standard error is available."""
    if se is None or not np.isfinite(se).any():
        return None
    with np.errstate(divide="ignore", invalid="ignore"):
        sd = se / (cov * neg_log)
    ok = np.isfinite(sd) & (sd > 0)
    if not ok.any():
        return None
    sd = np.where(ok, sd, np.nanmin(sd[ok]))  # a point with no spread over problems: the best precision seen
    return 1.0 / sd**2


def _coverage_least_squares(
    cov: np.ndarray, ks: np.ndarray, start: np.ndarray, iters: int = 30
) -> np.ndarray:
    """Least squares of c = exp(-A k^-B) on the coverage rows `cov` (R, m) themselves, from `start` (R, 2),
    by Levenberg-Marquardt steps on (log A, B) vectorised over rows. Returns (R, 2) of (A, B)."""
    logk = np.log(ks.astype(np.float64))[None, :]
    u, b = np.log(start[:, 0]).copy(), start[:, 1].copy()
    lam = np.full(len(u), 1e-3)

    def sse(u: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        g = np.exp(u[:, None] - b[:, None] * logk)  # A k^-B = -log c
        c = np.exp(-g)
        return ((c - cov) ** 2).sum(axis=1), c, g

    with np.errstate(over="ignore", invalid="ignore"):
        cur, c, g = sse(u, b)
        for _ in range(iters):
            r = c - cov
            ju, jb = -c * g, c * g * logk  # d c / d log A, d c / d B
            a11, a22, a12 = (ju * ju).sum(1), (jb * jb).sum(1), (ju * jb).sum(1)
            g1, g2 = -(ju * r).sum(1), -(jb * r).sum(1)
            d11, d22 = a11 * (1 + lam), a22 * (1 + lam)
            det = d11 * d22 - a12 * a12
            du, db = (d22 * g1 - a12 * g2) / det, (d11 * g2 - a12 * g1) / det
            ok = np.isfinite(du) & np.isfinite(db)
            nu, nb = np.where(ok, u + du, u), np.where(ok, b + db, b)
            new, nc, ng = sse(nu, nb)
            better = ok & (new < cur)
            u, b, cur = np.where(better, nu, u), np.where(better, nb, b), np.where(better, new, cur)
            c, g = np.where(better[:, None], nc, c), np.where(better[:, None], ng, g)
            lam = np.where(better, lam / 3, lam * 4)
    return np.stack([np.exp(u), b], axis=1)


def fit_neg_log_power_law(
    ks: np.ndarray,
    cov: np.ndarray,
    neg_log: np.ndarray,
    boot: np.ndarray | None = None,
    weights: np.ndarray | None = None,
) -> Fit:
    """-log c = A k^-B: least squares on the coverage curve itself (every log-spaced k counts the same, as
    in the error the fit is judged by), started from the line through log(-log c) on log k weighted by
    `weights` (see neg_log_weights). A line in log(-log c) alone is ruled by the few points where c is near
    1 and can miss the rest of the curve (on GSM8K Llama-3-8B it predicted c ~ 0 at k = 1, measured 0.77).
    -log c comes from the mean failure probability (no 1 - c cancellation). Bootstrap rows refit the same
    way from the point estimate."""
    fit = Fit("neg_log_power_law", ("A", "B"), np.array([np.nan, np.nan]), neg_log_power_law_curve)
    line, _ = _loglog_lines(neg_log[None, :], ks, weights)
    if np.isnan(line[0]).any():
        fit.degenerate = "fewer than 2 distinct k with 0 < coverage < 1; -log c = A*k^-B cannot be fitted"
        return fit
    fit.theta = _coverage_least_squares(cov[None, :], ks, line)[0]
    if boot is not None and len(boot) > 1:
        draws = _coverage_least_squares(boot, ks, np.tile(fit.theta, (len(boot), 1)))
        fit.draws = draws[np.isfinite(draws).all(axis=1)]
        fit.uncertainty = f"bootstrap over problems ({len(fit.draws)} refits)"
    fit.extra = {
        "tail_exponent": float(fit.theta[1]),
        "n_points": int(len(ks)),
        "fitted_by": "least squares on coverage at log-spaced k, from a variance-weighted line in log(-log c)",
    }
    return fit


# the scale parameter's null value s = 1 is on the boundary: 2*dNLL ~ 0.5*chi2(0) + 0.5*chi2(1), 5% level
LRT_CRITICAL = 2.706


def _choose_distributional(plain: Fit, scaled: Fit) -> str | None:
    """The scaled Beta nests the plain Beta (s = 1); keep the plain one unless a likelihood-ratio test at 5%
    says the scale is needed and the scaled fit is an interior solution."""
    if plain.degenerate:
        return None
    if scaled.degenerate or scaled.extra["at_bound"]:
        return plain.method
    gain = 2 * (scaled.extra["loglik"] - plain.extra["loglik"])
    return scaled.method if gain > LRT_CRITICAL or plain.extra["at_bound"] else plain.method


# -- everything for one config ----------------------------------------------------------------------------
@dataclass
class FitSet:
    """A config's coverage curve, its bootstrap, and every fitted law."""

    counts: Counts
    fits: dict[str, Fit]
    best_distributional: str | None  # chosen by a likelihood-ratio test (see _choose_distributional)
    boot_reps: int
    table: CoverageTable | None = None  # pass@k per distinct (n, c) at every k the report reads
    boot_weights: np.ndarray | None = None  # (reps, distinct (n, c)) resample counts behind every band

    def methods(self) -> dict[str, Fit]:
        """The contract's three methods (`distributional` = the chosen one of the two) plus both candidates."""
        out = {"power_law": self.fits["power_law"], "neg_log_power_law": self.fits["neg_log_power_law"]}
        out["distributional"] = self.fits[self.best_distributional or "beta_binomial"]
        out.update({m: self.fits[m] for m in DISTRIBUTIONAL})
        return out


def fit_all(counts: Counts, reps: int, rng: np.random.Generator, intervals: bool = True) -> FitSet:
    """Fit every law to one config's counts; `reps` bootstrap resamples give the curve laws' intervals and
    the observed information the distributional ones' (`intervals=False` skips both, for back-tests)."""

    n_max = counts.max_k
    ks = log_spaced_ks(n_max, FIT_POINTS)
    every = np.concatenate([ks, log_spaced_ks(n_max, ERR_POINTS), report_ks(n_max)])
    if intervals:
        every = np.concatenate([every, curve_ks(n_max)])
    table = CoverageTable(counts.n, counts.c, every)
    cov = table.coverage(ks)
    neg_log = table.neg_log_coverage(ks)
    boot = weights = None
    if intervals and reps > 1 and counts.num_problems > 1:
        weights = table.resample_weights(reps, rng)
        boot = table.bootstrap(ks, weights)
    se = table.coverage_se(ks) if counts.num_problems > 1 else None
    fits = {
        "power_law": fit_power_law(ks, cov, boot),
        "neg_log_power_law": fit_neg_log_power_law(ks, cov, neg_log, boot, neg_log_weights(cov, neg_log, se)),
    }
    fits["beta_binomial"] = fit_beta_binomial(counts, rng, intervals=intervals)
    fits["scaled_beta"] = fit_scaled_beta(counts, rng, start=fits["beta_binomial"], intervals=intervals)

    for fit in fits.values():
        if not fit.degenerate:
            fit.err_mean, fit.err_std, fit.err_max = fit_error(fit, n_max, table.coverage)
            ks_err = log_spaced_ks(n_max, ERR_POINTS)
            miss = np.abs(table.coverage(ks_err) - fit.predict(ks_err))
            se_err = table.coverage_se(ks_err) if counts.num_problems > 1 else np.zeros(len(ks_err))
            allowed = np.maximum(
                POOR_FIT, 2 * np.nan_to_num(se_err)
            )  # a miss within the curve's own noise is none
            if np.any(miss > allowed):
                j = int(np.argmax(miss - allowed))
                fit.poor_fit = (
                    f"misses the measured coverage by {miss[j]:.3f} at k={int(ks_err[j])} (more than "
                    f"max({POOR_FIT}, 2 standard errors) = {allowed[j]:.3f}): the law does not describe this "
                    "curve; not drawn, not recommended"
                )
    if counts.num_problems == 1:
        for fit in fits.values():
            fit.notes.append("a single problem: intervals over problems are not defined")
    best = _choose_distributional(fits["beta_binomial"], fits["scaled_beta"])
    return FitSet(counts, fits, best, reps if boot is not None else 0, table, weights)
