"""Distributional estimator: fit how single-sample success rates p are spread over problems, then predict.

If problem success rates p follow a distribution D, coverage at k is 1 - E_D[(1 - p)^k]. The counts are
binomial given p, so D is fitted by maximum likelihood on the counts themselves (problems never solved in
n samples are simply counts of 0, not a special case):

- `beta_binomial`: p ~ Beta(alpha, beta); the likelihood and the prediction are closed forms.
- `scaled_beta`: p = s * X, X ~ Beta(alpha, beta), 0 < s <= 1 (Schaeffer et al., 2025); the likelihood is an
  integral over p, done on a fixed grid in logit(p) with exact bin masses from the Beta CDF.

Near p = 0 the density goes like p^(alpha-1), so 1 - coverage(k) falls like k^(-alpha) for large k: alpha is
the asymptotic tail exponent of -log c. Over a finite window the curve can look steeper or flatter; the
window exponent (a line through log(-log c) on log k over k in [1, n]) is reported beside it.
Intervals come from the asymptotic normal law of the MLE (observed information), drawn in the
unconstrained parameters; they carry sampling error, not error from a wrong family.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from monkeys.analysis.coverage import log_spaced_ks
from monkeys.analysis.law import FIT_POINTS, Fit
from monkeys.analysis.law import loglog_lines as _loglog_lines
from monkeys.analysis.minimize import INFEASIBLE, Result, derivatives, minimize_box, nelder_mead, stencil
from monkeys.analysis.outcomes import Counts

DRAWS = 400
POINT_MASS = 1000.0  # alpha + beta above this: Beta(alpha, beta) is a spike (sd/mean < ~3% for mean 0.5)
LOG_BOUND = 12.0  # |log alpha|, |log beta|, |logit s| stay below this


def _unique(counts: Counts) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    pairs = np.stack([counts.n, counts.c], axis=1)
    uniq, w = np.unique(pairs, axis=0, return_counts=True)
    return uniq[:, 0].astype(np.float64), uniq[:, 1].astype(np.float64), w.astype(np.float64)


def _log_choose(n: np.ndarray, c: np.ndarray) -> np.ndarray:
    return special.gammaln(n + 1) - special.gammaln(c + 1) - special.gammaln(n - c + 1)


def _degenerate_reason(counts: Counts) -> str | None:
    if counts.num_problems < 2:
        return "a single problem: the spread of success rates over problems cannot be estimated"
    if counts.n.max() < 2:
        return "one sample per problem: only the mean success rate is identifiable, not its spread"
    if np.all(counts.c == 0):
        return "no problem was ever solved: the success-rate distribution has no maximum-likelihood fit"
    if np.all(counts.c == counts.n):
        return "every sample of every problem is correct: the success-rate distribution is a point at 1"
    return None


def _hessian(f, x: np.ndarray, step: float = 1e-4) -> np.ndarray:
    """Central-difference Hessian of the batched objective `f` ((R, p) -> (R,)) at x, in one call."""
    return derivatives(f(stencil(x, step)), len(x), step)[1]


def _normal_draws(x: np.ndarray, nll, rng: np.random.Generator, fit: Fit) -> np.ndarray | None:
    """Draws of the unconstrained parameters from N(x, H^-1); parameters at a bound are held fixed."""
    free = np.abs(x) < LOG_BOUND - 1e-3
    if not free.all():
        fit.notes.append("a parameter sits at its bound and is held fixed in the intervals")
    if not free.any():
        return None
    h_full = _hessian(nll, x)
    cov = _inverse_if_positive(h_full[np.ix_(free, free)])
    if cov is None and free[-1] and free.sum() > 1:
        # the last parameter (a scale) often leaves the likelihood flat; hold it at its MLE instead
        free[-1] = False
        cov = _inverse_if_positive(h_full[np.ix_(free, free)])
        if cov is not None:
            fit.notes.append(
                f"the likelihood is flat in {fit.names[-1]}; it is held at its MLE in the intervals"
            )
    if cov is None:
        fit.notes.append("the information matrix is singular; no intervals")
        return None
    out = np.tile(x, (DRAWS, 1))
    out[:, free] = rng.multivariate_normal(x[free], cov, size=DRAWS)
    return np.clip(out, -LOG_BOUND - 3, LOG_BOUND + 3)


def _inverse_if_positive(h: np.ndarray) -> np.ndarray | None:
    try:
        cov = np.linalg.inv(h)
        np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        return None
    return cov


def _window_exponent(fit: Fit, n_max: int) -> float:
    ks = log_spaced_ks(n_max, FIT_POINTS)
    with np.errstate(divide="ignore"):
        theta, _ = _loglog_lines(-np.log(fit.predict(ks))[None, :], ks)
    return float(theta[0, 1])


def _finish(
    fit: Fit,
    best: Result,
    to_theta,
    nll,
    counts: Counts,
    rng: np.random.Generator,
    intervals: bool,
) -> Fit:
    """Fill a distributional fit from its optimum: parameters, interval draws, AIC and exponents."""
    x = best.x
    fit.theta = to_theta(x)
    draws = _normal_draws(x, nll, rng, fit) if intervals else None
    if draws is not None:
        fit.draws = to_theta(draws)
        fit.uncertainty = f"asymptotic normal MLE (observed information, {DRAWS} draws)"
    at_bound = bool(
        np.any(np.abs(x[:2]) >= LOG_BOUND - 1e-3)
    )  # alpha or beta; a scale of 1 is the plain Beta
    if at_bound:
        fit.notes.append("boundary solution (a parameter at its search bound): the law is barely identified")
    alpha, beta = fit.theta[0], fit.theta[1]
    scale = fit.theta[2] if len(fit.theta) > 2 else 1.0
    if alpha + beta > POINT_MASS:
        fit.degenerate = (
            f"degenerate solution: alpha + beta = {alpha + beta:.4g} makes the success rates a near point mass "
            f"at p = {scale * alpha / (alpha + beta):.4g}; the counts show no spread over problems to fit, so "
            "alpha is no tail exponent (more problems would tell)"
        )
    elif at_bound:
        fit.degenerate = (
            "degenerate solution: a parameter sits at its search bound; the law is not identified"
        )
    fit.extra = {
        "at_bound": at_bound,
        "loglik": -float(best.fun),
        "aic": 2 * len(x) + 2 * float(best.fun),
        "tail_exponent": float(alpha),
        "tail_exponent_label": "asymptotic: 1 - coverage ~ k^-alpha as k -> infinity",
        "window_exponent": _window_exponent(fit, counts.max_k),
        "window_exponent_label": f"slope of log(-log c) on log k over the observed window k = 1..{counts.max_k}",
        "mean_p": float(scale * alpha / (alpha + beta)),
    }
    return fit


# -- beta-binomial -----------------------------------------------------------------------------------------
def beta_binomial_curve(thetas: np.ndarray, ks: np.ndarray) -> np.ndarray:
    """Coverage 1 - B(alpha, beta + k) / B(alpha, beta) for parameter rows (alpha, beta)."""
    a, b = thetas[:, :1], thetas[:, 1:2]
    k = np.asarray(ks, dtype=np.float64)[None, :]
    return -np.expm1(special.betaln(a, b + k) - special.betaln(a, b))


def fit_beta_binomial(counts: Counts, rng: np.random.Generator, intervals: bool = True) -> Fit:
    fit = Fit("beta_binomial", ("alpha", "beta"), np.array([np.nan, np.nan]), beta_binomial_curve)
    fit.degenerate = _degenerate_reason(counts)
    if fit.degenerate:
        return fit
    n, c, w = _unique(counts)
    const = float((w * _log_choose(n, c)).sum())

    def nll(x: np.ndarray) -> np.ndarray:  # rows of (log alpha, log beta) -> negative log-likelihoods
        a, b = np.exp(np.atleast_2d(x)[:, :1]), np.exp(np.atleast_2d(x)[:, 1:2])
        ll = (special.betaln(c + a, n - c + b) - special.betaln(a, b)) @ w
        return -(ll + const)

    # method-of-moments start, then a couple of generic starts; keep the best optimum
    p = counts.c / counts.n
    m, v = float(p.mean()), float(p.var())
    starts = [np.array([np.log(0.5), np.log(0.5)]), np.array([np.log(0.1), np.log(1.0)])]
    if 0 < m < 1 and 0 < v < m * (1 - m):
        common = m * (1 - m) / v - 1
        starts.insert(0, np.log([m * common, (1 - m) * common]))
    best = minimize_box(nll, starts, LOG_BOUND)
    return _finish(fit, best, np.exp, nll, counts, rng, intervals)


# -- scaled Beta on a logit grid ----------------------------------------------------------------------------
EXACT_BINS = 8  # bins within this many widths below the scale s get exact Beta-CDF masses


class PGrid:
    """Bins over p in [0, 1], evenly spaced in t = logit(p) between p_lo and 1 - p_lo plus the two end bins,
    and the nodes (bin edges and middles) at which an integral over p is read by Simpson's rule in t.

    For counts of n samples the step is at most 3/4 of the binomial peak's width 1/sqrt(n p (1-p)) in t
    (so Simpson's rule integrates likelihood x density to ~1e-6), and at most `cap` elsewhere; the lowest
    edge p_lo = 1e-4 / max(n, k) keeps the mass of p below it irrelevant to coverage at k."""

    def __init__(self, n_max: int, k_max: int = 1, cap: float = 0.25) -> None:
        p_lo = 1e-4 / max(n_max, k_max)
        half = float(special.logit(1 - p_lo))
        t = [-half]
        while t[-1] < half:
            h = cap
            if n_max > 1:
                for tt in (t[-1], t[-1] + h):  # the step must suit both ends of the bin
                    pp = float(special.expit(tt))
                    h = min(h, 0.75 / np.sqrt(n_max * pp * (1 - pp)))
            t.append(min(half, t[-1] + h))
        t = np.asarray(t)
        mid_t = (t[:-1] + t[1:]) / 2
        inner = special.expit(t)
        self.edges = np.concatenate([[0.0], inner, [1.0]])  # G + 1 edges of G bins
        self.h = np.concatenate([[np.inf], np.diff(t), [np.inf]])  # width of each bin in t
        mids = np.concatenate([[inner[0] / 2], special.expit(mid_t), [(1 + inner[-1]) / 2]])
        self.mids = mids
        # nodes: edge 0, mid 0, edge 1, mid 1, ..., edge G
        nodes = np.empty(2 * len(mids) + 1)
        nodes[0::2], nodes[1::2] = self.edges, mids
        self.nodes = nodes
        with np.errstate(divide="ignore"):
            self.log_p = np.log(nodes)
            self.log_1m = np.log1p(-nodes)
        width = np.diff(self.edges)
        # reach[g] = edges[g] + EXACT_BINS * width of bin g - 1 (running max, for a binary search)
        self.reach = np.maximum.accumulate(np.r_[0.0, self.edges[1:-1] + EXACT_BINS * width[:-1]])
        self.simpson = np.zeros(len(nodes))  # Simpson weights in t (bins 0 and G-1 are always exact)
        w = self.h[1:-1]
        np.add.at(self.simpson, np.arange(2, len(nodes) - 3, 2), w / 6)
        np.add.at(self.simpson, np.arange(3, len(nodes) - 2, 2), 4 * w / 6)
        np.add.at(self.simpson, np.arange(4, len(nodes) - 1, 2), w / 6)


def scaled_beta_weights(thetas: np.ndarray, grid: PGrid) -> np.ndarray:
    """Integration weights over the grid's nodes for p = s * Beta(alpha, beta), one row per (alpha, beta, s):
    sum_j w_j g(p_j) approximates E[g(p)] for a smooth g. Simpson's rule on the density in t = logit(p),
    except the end bins and the bins just below the scale s (where the density has a (1 - p/s)^(beta-1)
    singularity), whose masses come exactly from the Beta CDF and are split between the bin's two edges so
    that the bin's mean p is exact too (error O(width^2 g'') for those bins)."""
    thetas = np.atleast_2d(np.asarray(thetas, dtype=np.float64))
    a, b, s = thetas[:, 0], thetas[:, 1], thetas[:, 2]
    n_rows = len(thetas)
    top = np.searchsorted(grid.edges, s, side="left")  # edges[top - 1] < s <= edges[top]: s is in bin top-1
    # lowest exact bin: the first whose lower edge is within EXACT_BINS widths below s
    first = np.clip(np.searchsorted(grid.reach, s, side="right"), 1, np.maximum(top - 1, 1))
    # Simpson's rule on the nodes from edge 1 to edge `first` (bins 1 .. first - 1): only nodes 2..2*first
    # carry weight (and they all lie below s), so the density is evaluated on those columns alone
    end = 2 * first
    width = int(end.max()) - 1  # columns 2 .. max(end)
    out = np.zeros((n_rows, len(grid.nodes)))
    if width > 0:
        cols = slice(2, 2 + width)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_f = (
                a[:, None] * (grid.log_p[None, cols] - np.log(s)[:, None])
                + (b[:, None] - 1) * np.log1p(-np.minimum(grid.nodes[None, cols] / s[:, None], 1.0))
                + grid.log_1m[None, cols]
                - special.betaln(a, b)[:, None]
            )
        dens = np.exp(log_f)
        if n_rows > 1:  # rows whose Simpson range ends before the widest one
            dens[np.arange(2, 2 + width)[None, :] > end[:, None]] = 0.0
        out[:, cols] = dens
    rows = np.arange(n_rows)
    out[rows, end] *= np.where(first > 1, 1 - grid.h[first] / (grid.h[first] + grid.h[first - 1]), 0.0)
    out *= grid.simpson[None, :]
    # exact bins: bin 0 and bins first .. top-1 of each row
    count = top - first  # bins first .. top-1
    r = np.repeat(rows, count)
    offsets = np.cumsum(count) - count
    g = first[r] + np.arange(int(count.sum())) - offsets[r]
    r, g = np.concatenate([rows, r]), np.concatenate([np.zeros(n_rows, dtype=np.int64), g])
    ra, rb, rs = a[r], b[r], s[r]
    x_hi = np.minimum(grid.edges[g + 1] / rs, 1.0)
    x_lo = np.minimum(grid.edges[g] / rs, 1.0)
    a1 = ra + 1
    cdf = special.betainc(
        np.concatenate((ra, ra, a1, a1)),
        np.concatenate((rb, rb, rb, rb)),
        np.concatenate((x_hi, x_lo, x_hi, x_lo)),
    )
    m = len(r)
    mass = cdf[:m] - cdf[m : 2 * m]
    mean = rs * ra / (ra + rb) * (cdf[2 * m : 3 * m] - cdf[3 * m :])
    # each exact mass goes to its bin's two edges, split so that the bin's mean p is exact too; every
    # (row, node) appears once in each of the two updates (a row's exact bins are distinct)
    p_lo, span = grid.edges[g], grid.edges[g + 1] - grid.edges[g]
    up = np.clip((mean - mass * p_lo) / span, 0.0, mass)
    out[r, 2 * g] += mass - up
    out[r, 2 * g + 2] += up
    return np.maximum(out, 0.0)


def scaled_beta_curve(thetas: np.ndarray, ks: np.ndarray) -> np.ndarray:
    """Coverage 1 - E[(1 - p)^k] under p = s * Beta(alpha, beta), for parameter rows (alpha, beta, s)."""
    ks = np.asarray(ks, dtype=np.float64)
    grid = _curve_grid(int(ks.max()))
    with np.errstate(divide="ignore"):
        surv = np.exp(np.outer(grid.log_1m, ks))  # (nodes, K): (1 - p)^k
    return 1.0 - scaled_beta_weights(thetas, grid) @ surv


_CURVE_GRIDS: dict[int, PGrid] = {}


def _curve_grid(k_max: int) -> PGrid:
    """A prediction grid for k up to k_max (rounded up to a power of 2 so that grids are reused)."""
    key = 1 << max(0, int(k_max - 1).bit_length())
    if key not in _CURVE_GRIDS:
        _CURVE_GRIDS[key] = PGrid(1, key, cap=0.1)
    return _CURVE_GRIDS[key]


def _theta_from_x(x: np.ndarray) -> np.ndarray:
    """(log alpha, log beta, logit s) -> (alpha, beta, s), for one vector or rows of them."""
    x = np.asarray(x, dtype=np.float64)
    return np.stack([np.exp(x[..., 0]), np.exp(x[..., 1]), special.expit(x[..., 2])], axis=-1)


def fit_scaled_beta(
    counts: Counts, rng: np.random.Generator, start: Fit | None = None, intervals: bool = True
) -> Fit:
    fit = Fit("scaled_beta", ("alpha", "beta", "scale"), np.array([np.nan] * 3), scaled_beta_curve)
    fit.degenerate = _degenerate_reason(counts)
    if fit.degenerate:
        return fit
    n, c, w = _unique(counts)
    grid = PGrid(int(n.max()))
    with np.errstate(invalid="ignore"):  # 0 * log 0 at the end nodes is 0
        loglik = _log_choose(n, c)[:, None] + np.nan_to_num(
            np.outer(c, grid.log_p) + np.outer(n - c, grid.log_1m), nan=0.0, neginf=-np.inf
        )
    row_max = loglik.max(axis=1)
    scaled = np.exp(loglik - row_max[:, None])  # (U, nodes), each row peaks at 1
    base = float((w * row_max).sum())

    def nll(x: np.ndarray) -> np.ndarray:  # rows of (log alpha, log beta, logit s) -> negative log-lik.
        x = np.clip(np.atleast_2d(x), -LOG_BOUND, LOG_BOUND)
        weights = scaled_beta_weights(_theta_from_x(x), grid)
        lik = (
            np.stack([scaled @ row for row in weights])
            if len(weights) > 1
            else (scaled @ weights[0])[None, :]
        )
        possible = np.all(lik > 0, axis=1)  # a count above the scale is impossible
        with np.errstate(divide="ignore"):
            out = -(base + (w * np.log(np.where(possible[:, None], lik, 1.0))).sum(axis=1))
        return np.where(possible, out, INFEASIBLE * 10)

    starts = [np.array([np.log(0.3), np.log(3.0), 2.0])]
    if start is not None and not start.degenerate:
        a, b = start.theta
        starts.insert(
            0, np.clip(np.array([np.log(a), np.log(b), LOG_BOUND - 1]), -LOG_BOUND + 1, LOG_BOUND - 1)
        )
        top = float(np.max(counts.c / counts.n))
        if 0 < top < 0.9:
            starts.append(np.array([np.log(a), 0.0, float(special.logit(min(0.99, 1.2 * top)))]))
    # Nelder-Mead: gradient steps jump onto the cliff where the scale falls below an observed rate
    options = {"xatol": 1e-3, "fatol": 1e-4, "maxiter": 2000}
    # every start at a loose tolerance (they guard against a local optimum), then the best one polished
    coarse = {"xatol": 1e-2, "fatol": 1e-2, "maxfev": 100}
    results = [nelder_mead(nll, s, **coarse) for s in starts]
    rough = min(results, key=lambda r: r.fun)
    simplex = rough.x + np.vstack([np.zeros(3), 0.03 * np.eye(3)])  # about the coarse tolerance
    best = nelder_mead(nll, rough.x, **options, initial_simplex=simplex)
    best.nfev += sum(r.nfev for r in results)
    best.x = np.clip(best.x, -LOG_BOUND, LOG_BOUND)
    return _finish(fit, best, _theta_from_x, nll, counts, rng, intervals)
