"""Predict coverage beyond the samples drawn, with intervals, from a back-test-weighted average of the laws.

The back-test plays the extrapolation out on the data itself: keep n' = n^2/K samples per problem (at least
10; drawn without replacement from the counts, i.e. hypergeometric draws), fit every law to those, predict
coverage at n, and compare with the coverage measured from all n samples. Each law's weight is the inverse
of its mean squared back-test error (on the back-test subsamples where every weighted law could be fitted);
the recommendation, `model_average`, is the weighted mean of the laws' predictions at K, and its interval
is that of Bayesian model averaging: variance = sum_l w_l (own variance_l + (prediction_l - mean)^2), the
laws' own sampling variance plus their weighted disagreement. Nothing in the rule is tuned on any data set:
the weights, the average and the interval come from the counts being extrapolated alone.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from monkeys.analysis.coverage import bootstrap_coverage, coverage, interval
from monkeys.analysis.fits import FitSet, fit_all
from monkeys.analysis.outcomes import Counts, hypergeometric_subsample
from monkeys.analysis.results import Backtest, BacktestMethod, Extrapolation, Prediction

MIN_BACKTEST_SAMPLES = 10
LAWS = ("power_law", "neg_log_power_law", "distributional")  # averaged (distributional: the chosen model)
MIN_MSE = (
    1e-8  # a back-test error below 1e-4 weighs no more than one of 1e-4: no law gets all the weight by luck
)


def backtest(counts: Counts, n_fit: int, rng: np.random.Generator, reps: int = 3) -> Backtest:
    """Fit each method on `n_fit` samples per problem (hypergeometric subsamples), predict coverage at the
    full n, and report the absolute error against the coverage measured on all n samples."""
    target = counts.max_k
    truth = float(coverage(counts.n, counts.c, [target])[0])
    preds: dict[str, list[float]] = {}
    for _ in range(reps):
        sub = hypergeometric_subsample(counts, n_fit, rng)
        fs = fit_all(sub, 0, rng, intervals=False)
        for name, fit in fs.methods().items():
            preds.setdefault(name, []).append(float(fit.predict([target])[0]))
    methods = []
    for name, values in preds.items():
        v = np.asarray(values)
        err = np.abs(v - truth)
        methods.append(
            (
                name,
                BacktestMethod(
                    predicted_mean=_num(np.nanmean(v)) if np.isfinite(v).any() else None,
                    abs_err_mean=_num(np.nanmean(err)) if np.isfinite(err).any() else None,
                    abs_err_max=_num(np.nanmax(err)) if np.isfinite(err).any() else None,
                    failed_fits=int((~np.isfinite(v)).sum()),
                    predictions=tuple(_num(x) for x in v),
                ),
            )
        )
    return Backtest(n_fit, target, truth, reps, tuple(methods))


def extrapolate(
    fitset: FitSet, k: int, rng: np.random.Generator, level: float = 0.95, reps: int = 3
) -> Extrapolation:
    """Coverage at `k` from every method with a `level` interval, and the recommended method."""
    counts = fitset.counts
    n = counts.max_k
    preds: dict[str, Prediction] = {}
    for name, fit in fitset.methods().items():
        if fit.degenerate:
            preds[name] = Prediction(None, None, None, degenerate=fit.degenerate)
            continue
        lo, hi = fit.predict_interval([k], level)
        preds[name] = Prediction(
            _num(fit.predict([k])[0]), _num(lo[0]), _num(hi[0]), model=fit.method, poor_fit=fit.poor_fit
        )
    d = preds["distributional"]
    preds["distributional"] = Prediction(
        d.coverage, d.low, d.high, fitset.best_distributional, d.degenerate, d.poor_fit
    )

    def made(recommended: str | None, reason: str, **more: Any) -> Extrapolation:
        return Extrapolation(int(k), level, tuple(preds.items()), recommended, reason, **more)

    def averaged(reason: str, average: Prediction, **more: Any) -> Extrapolation:
        return made("model_average", reason, model_average=average, interval=average, **more)

    if k <= n:
        cov = float(coverage(counts.n, counts.c, [k])[0])
        lo = hi = None
        if counts.num_problems > 1:
            boot = bootstrap_coverage(counts.n, counts.c, [k], max(fitset.boot_reps, 200), rng)
            low, high = interval(boot, level)
            lo, hi = float(low[0]), float(high[0])
        reason = f"k={k} is within the {n} samples drawn: the measured coverage needs no law"
        return made("empirical", reason, empirical=Prediction(cov, lo, hi))
    if all(preds[m].coverage is None for m in LAWS):
        return made(None, "no method could be fitted (see each fit's `degenerate`)")
    usable = [m for m in LAWS if preds[m].coverage is not None and not preds[m].poor_fit]
    n_fit = max(round(n * n / k), min(MIN_BACKTEST_SAMPLES, n))
    if n_fit >= n or n_fit < 2:
        if not usable:
            return made(None, f"too few samples ({n}) for a back-test, and no law describes the curve")
        weights = {m: 1.0 / len(usable) for m in usable}
        reason = (
            f"too few samples ({n}) for a back-test: the usable laws ({', '.join(usable)}) weigh the same"
        )
        return averaged(reason, model_average(preds, weights, level))
    bt = backtest(counts, n_fit, rng, reps)
    if not usable:
        return made(None, "every law is degenerate or misses the measured curve", backtest=bt)
    weights, how, mse_average = backtest_weights(bt, usable)
    reason = (
        f"weighted mean of {', '.join(f'{m} {w:.2f}' for m, w in weights.items())}; {how} (back-test: "
        f"coverage at {n} predicted from {n_fit} samples per problem, ratio {n / n_fit:.3g}; asked ratio "
        f"{k / n:.3g})"
    )
    return averaged(reason, model_average(preds, weights, level, mse_average), backtest=bt)


def backtest_weights(bt: Backtest, usable: list[str]) -> tuple[dict[str, float], str, float]:
    """Weights of the usable laws: inverse mean squared back-test error, compared on the back-test subsamples
    where all of them could be fitted. A law that could not be fitted on most back-test subsamples has no
    record to weigh and gets none; with no record at all, the usable laws weigh the same. Also returns the
    mean squared back-test error of the weighted average itself (0 without a record)."""
    truth = bt.truth
    methods = dict(bt.methods)
    preds = {
        m: np.array([np.nan if x is None else x for x in methods[m].predictions], dtype=np.float64)
        for m in usable
    }
    recorded = [m for m in usable if np.isfinite(preds[m]).mean() > 0.5]
    if recorded:
        common = np.all([np.isfinite(preds[m]) for m in recorded], axis=0)
        mse = {m: float(np.mean((preds[m][common] - truth) ** 2)) for m in recorded}
        inv = {m: 1.0 / max(v, MIN_MSE) for m, v in mse.items()}
        total = sum(inv.values())
        weights = {m: inv.get(m, 0.0) / total for m in usable}
        average = sum(weights[m] * preds[m][common] for m in recorded)
        mse_average = float(np.mean((average - truth) ** 2))
        rmse = ", ".join(f"{m} {np.sqrt(v):.4f}" for m, v in mse.items())
        how = f"weights 1 / back-test mean squared error (rms errors: {rmse}; {int(common.sum())} subsamples)"
        dropped = [m for m in usable if m not in recorded]
        if dropped:
            how += (
                f"; {', '.join(dropped)} could not be fitted on most back-test subsamples and get no weight"
            )
        return weights, how, mse_average
    equal = {m: 1.0 / len(usable) for m in usable}
    return equal, "no law could be fitted on the back-test subsamples: equal weights", 0.0


def model_average(
    preds: dict[str, Prediction], weights: dict[str, float], level: float, backtest_mse: float = 0.0
) -> Prediction:
    """The weighted mean of the laws' predictions and its interval.

    Each law's own interval (bootstrap over problems, or the MLE's information) carries sampling error only,
    not the error of extrapolating with a wrong law, which dominates far beyond the samples drawn. The
    variance is that of Bayesian model averaging, the laws' weighted own variance plus their weighted
    disagreement, plus the average's own mean squared error in the back-test (its measured extrapolation
    error at the back-test's ratio, a floor for the error at the larger asked ratio; the laws can agree and
    still all be wrong): var = sum_l w_l (sd_l^2 + (c_l - c)^2) + mse_backtest, sd_l = own 95% half-width
    / z. Normal interval, clipped to [0, 1]."""
    from statistics import NormalDist

    z = NormalDist().inv_cdf(0.5 + level / 2)
    z95 = NormalDist().inv_cdf(0.975)
    used = {m: w for m, w in weights.items() if w > 0}
    cov = {m: preds[m].coverage for m in used}
    c = float(sum(w * cov[m] for m, w in used.items()))  # type: ignore[operator]  (usable: not None)
    own = disagree = 0.0
    for m, w in used.items():
        lo, hi = preds[m].low, preds[m].high
        sd = (hi - lo) / (2 * z95) if lo is not None and hi is not None else 0.0
        own += w * sd**2
        disagree += w * (cov[m] - c) ** 2  # type: ignore[operator]
    half = z * float(np.sqrt(own + disagree + backtest_mse))
    return Prediction(
        c,
        max(0.0, c - half),
        min(1.0, c + half),
        how=(
            f"sd {np.sqrt(own):.4f} own (weighted), {np.sqrt(disagree):.4f} between the laws, "
            f"{np.sqrt(backtest_mse):.4f} the average's back-test error"
        ),
        weights=tuple((m, float(w)) for m, w in weights.items()),
        sd=(("own", own**0.5), ("disagreement", disagree**0.5), ("backtest", backtest_mse**0.5)),
    )


def _num(x: float) -> float | None:
    x = float(x)
    return x if np.isfinite(x) else None
