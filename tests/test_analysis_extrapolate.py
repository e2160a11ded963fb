"""Extrapolation back-tests on the paper's released outcomes (100 of 10,000 samples -> coverage at 10,000)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from monkeys.analysis.coverage import coverage
from monkeys.analysis.extrapolate import backtest, extrapolate
from monkeys.analysis.fits import fit_all
from monkeys.analysis.outcomes import hypergeometric_subsample, read_outcomes


@pytest.fixture(scope="module")
def outcomes() -> dict:
    path = Path(os.environ.get("MONKEYS_DATA_DIR", "/work/shared/data")) / "monkey_business" / "outcomes.csv"
    if not path.is_file():
        pytest.skip(f"{path} not present; set MONKEYS_DATA_DIR")
    return read_outcomes(path)


def test_hypergeometric_subsample_keeps_counts_consistent(outcomes):
    counts = outcomes["MATH_Pythia-1B"]
    sub = hypergeometric_subsample(counts, 100, np.random.default_rng(0))
    assert np.all(sub.n == 100) and np.all(sub.c <= 100) and np.all(sub.c >= 0)
    # unbiased: pass@1 of the subsample estimates the same rate
    assert sub.c.mean() / 100 == pytest.approx(counts.c.mean() / 10_000, rel=0.2)


@pytest.mark.e2e
def test_every_method_predicts_coverage_at_10000_from_100_samples(outcomes):
    """Measured on this table over 4 seeds (2 subsamples per config each): mean |error| 0.02-0.045 for the
    two curve laws, 0.04-0.09 for the distributional fits (unstable on Pythia-70M, where 100 samples solve
    only a handful of problems); assuming no growth past k=100 is off by 0.27 on average. The bounds leave
    room for subsample noise and still fail a method that extrapolates no better than a flat line."""
    rng = np.random.default_rng(0)
    errors: dict[str, list[float]] = {}
    flat = []
    for counts in outcomes.values():
        bt = backtest(counts, 100, rng, reps=2)
        assert bt.truth == pytest.approx(float(coverage(counts.n, counts.c, [10_000])[0]))
        for method, r in bt.methods:
            # a fit can be degenerate on a subsample (a point mass on Pythia-70M's few solved problems)
            if r.abs_err_mean is not None:
                errors.setdefault(method, []).append(r.abs_err_mean)
        flat.append(bt.truth - float(coverage(counts.n, counts.c, [100])[0]))
    assert np.mean(flat) > 0.2
    for method in ("power_law", "neg_log_power_law"):
        assert np.mean(errors[method]) < 0.06, method
    assert np.mean(errors["neg_log_power_law"]) < 0.03  # 0.020 over 6 subsamples per config
    for method in ("power_law", "neg_log_power_law", "beta_binomial", "scaled_beta", "distributional"):
        assert np.mean(errors[method]) < 0.12, method
        assert np.mean(errors[method]) < np.mean(flat) / 2, method
    # the two Llama-3 MATH configs are the paper's headline: every law gets within 0.05
    for name in ("MATH_Llama-3-8B-Instruct", "MATH_Llama-3-70B-Instruct"):
        i = list(outcomes).index(name)
        assert all(errors[m][i] < 0.05 for m in ("power_law", "neg_log_power_law", "beta_binomial"))


@pytest.mark.e2e
def test_the_recommended_extrapolation_and_its_interval_hold_up_in_the_back_test(outcomes):
    """100 of 10,000 samples -> coverage at 10,000, 2 subsamples per config: the recommended method's mean
    error stays small and its widened 95% interval holds the truth in most cases (BENCHMARKS.md has the
    fuller run: 0.95 over 44 cases). The bounds leave room for 22 cases' noise."""
    from monkeys.analysis.report import config_rng

    errors, inside = [], []
    for name, counts in outcomes.items():
        truth = float(coverage(counts.n, counts.c, [10_000])[0])
        rng = config_rng(3, name)
        for _ in range(2):
            out = extrapolate(
                fit_all(hypergeometric_subsample(counts, 100, rng), 50, rng), 10_000, rng, reps=2
            )
            iv = out.interval
            assert iv.low <= iv.coverage <= iv.high
            errors.append(abs(iv.coverage - truth))
            inside.append(iv.low - 1e-9 <= truth <= iv.high + 1e-9)
    assert np.mean(errors) < 0.045  # 0.035 on these 22 cases; assuming no growth past k=100 is off by 0.27
    assert (
        max(errors) < 0.2
    )  # one subsample of 100 can be unlucky (0.17 here); per config the worst mean is 0.07
    assert (
        np.mean(inside) >= 0.7
    )  # 0.77 here (50 resamples, misses near c = 1 by < 1e-4); 0.95 in the fuller run


@pytest.mark.e2e
def test_extrapolation_from_1000_samples_brackets_the_truth_and_recommends_a_method(outcomes):
    counts = outcomes["MATH_Llama-3-8B-Instruct"]
    rng = np.random.default_rng(1)
    sub = hypergeometric_subsample(counts, 1000, rng)
    truth = float(coverage(counts.n, counts.c, [10_000])[0])
    out = extrapolate(fit_all(sub, 100, rng), 10_000, rng, reps=2)
    assert out.recommended in (
        "power_law",
        "neg_log_power_law",
        "distributional",
        "beta_binomial",
        "scaled_beta",
    )
    rec = out.prediction(out.recommended)
    assert rec.low <= rec.coverage <= rec.high
    assert abs(rec.coverage - truth) < 0.03
    assert out.backtest.fit_samples == 100  # same 10x ratio, played out inside the 1000 samples


def test_k_within_the_samples_is_measured_not_extrapolated(outcomes):
    counts = outcomes["MATH_Pythia-70M"]
    rng = np.random.default_rng(0)
    out = extrapolate(fit_all(counts, 20, rng), 500, rng)
    assert out.recommended == "empirical"
    assert out.empirical.coverage == pytest.approx(float(coverage(counts.n, counts.c, [500])[0]))
