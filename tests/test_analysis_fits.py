"""Scaling-law fits recover the parameters of data drawn from known laws; degenerate data is labelled."""

from __future__ import annotations

import numpy as np
import pytest

from monkeys.analysis.coverage import log_spaced_ks
from monkeys.analysis.distributional import fit_beta_binomial, fit_scaled_beta
from monkeys.analysis.fits import fit_all, fit_neg_log_power_law, fit_power_law
from monkeys.analysis.outcomes import Counts


def counts_from_rates(p: np.ndarray, n: int, rng: np.random.Generator) -> Counts:
    c = rng.binomial(n, p)
    return Counts("synthetic", np.arange(len(p)).astype(str), np.full(len(p), n), c.astype(np.int64))


def test_power_law_recovers_a_and_b_from_an_exact_curve():
    ks = log_spaced_ks(10_000, 40)
    a, b = -4.0, -0.35
    cov = np.exp(a * ks**b)
    fit = fit_power_law(ks, cov, None)
    assert fit.theta == pytest.approx([a, b], abs=1e-5)
    assert fit.predict([10**6])[0] == pytest.approx(np.exp(a * 1e6**b), rel=1e-4)


def test_power_law_intervals_come_from_bootstrap_refits():
    ks = log_spaced_ks(1000, 40)
    rng = np.random.default_rng(1)
    truth = np.exp(-2.0 * ks**-0.4)
    boot = np.clip(truth * (1 + 0.01 * rng.standard_normal((300, 1))), 1e-9, 1)  # curve-level noise
    fit = fit_power_law(ks, truth, boot)
    s = fit.summary()
    assert s["a_ci"][0] < -2.0 < s["a_ci"][1]
    assert 0 < s["a_std"] < 0.1


def test_neg_log_power_law_recovers_A_and_B_from_an_exact_curve():
    ks = log_spaced_ks(10_000, 40)
    A, B = 3.0, 0.5
    neg_log = A * ks.astype(float) ** -B
    fit = fit_neg_log_power_law(ks, np.exp(-neg_log), neg_log)
    assert fit.theta == pytest.approx([A, B], rel=1e-6)


def test_neg_log_power_law_describes_the_whole_curve_where_a_log_log_line_does_not():
    # a curve that reaches 1 faster than the law allows (as GSM8K's do): a line through log(-log c) is
    # ruled by the points near c = 1; the coverage-space fit stays close everywhere, at k = 1 too
    ks = log_spaced_ks(10_000, 40)
    rng = np.random.default_rng(5)
    p = np.r_[rng.beta(3, 0.6, 120), np.full(7, 0.02)]  # mostly easy problems, a few hard ones
    counts = counts_from_rates(p, 10_000, rng)
    fs = fit_all(counts, 0, rng, intervals=False)
    fit = fs.fits["neg_log_power_law"]
    measured = fs.table.coverage(ks)
    assert abs(fit.predict([1])[0] - measured[0]) < 0.03
    assert fit.err_max < 0.05 and fit.poor_fit is None


def test_a_law_far_from_the_curve_is_flagged_not_passed_off():
    # half the problems at p = 0.5, half never solved: coverage jumps to 0.5 and stays; no power law fits
    counts = Counts(
        "step", np.arange(40).astype(str), np.full(40, 1000), np.r_[np.full(20, 500), np.zeros(20)]
    )
    fs = fit_all(counts, 0, np.random.default_rng(0), intervals=False)
    assert fs.fits["power_law"].poor_fit and "misses the measured coverage" in fs.fits["power_law"].poor_fit
    assert fs.fits["power_law"].summary()["poor_fit"]


def test_a_point_mass_distributional_fit_is_called_degenerate():
    # 4 problems x 64 with nearly equal counts: the MLE runs off to a spike (alpha + beta in the thousands)
    counts = Counts("demo", np.arange(4).astype(str), np.full(4, 64), np.array([1, 1, 2, 1]))
    fs = fit_all(counts, 0, np.random.default_rng(0), intervals=False)
    for name in ("beta_binomial", "scaled_beta"):
        reason = fs.fits[name].degenerate
        assert reason and "point mass" in reason, name
        assert np.isnan(fs.fits[name].predict([1000])[0])


def test_beta_binomial_mle_recovers_alpha_beta_with_honest_intervals():
    rng = np.random.default_rng(2)
    alpha, beta = 0.3, 5.0
    counts = counts_from_rates(rng.beta(alpha, beta, size=3000), 200, rng)
    fit = fit_beta_binomial(counts, rng)
    s = fit.summary()
    assert fit.theta == pytest.approx([alpha, beta], rel=0.12)
    assert s["alpha_ci"][0] < alpha < s["alpha_ci"][1]
    assert s["beta_ci"][0] < beta < s["beta_ci"][1]
    assert s["tail_exponent"] == pytest.approx(fit.theta[0])


def test_beta_binomial_predicts_coverage_far_beyond_the_samples_drawn():
    rng = np.random.default_rng(3)
    alpha, beta = 0.25, 8.0
    p = rng.beta(alpha, beta, size=4000)
    counts = counts_from_rates(p, 100, rng)
    fit = fit_beta_binomial(counts, rng)
    truth_10k = float(np.mean(1 - (1 - p) ** 10_000))  # the coverage these problems really have at 10,000
    assert fit.predict([10_000])[0] == pytest.approx(truth_10k, abs=0.02)


def test_scaled_beta_recovers_the_scale_of_capped_success_rates():
    rng = np.random.default_rng(4)
    alpha, beta, scale = 0.4, 1.5, 0.2
    counts = counts_from_rates(scale * rng.beta(alpha, beta, size=3000), 500, rng)
    plain = fit_beta_binomial(counts, rng)
    fit = fit_scaled_beta(counts, rng, start=plain)
    assert fit.theta == pytest.approx([alpha, beta, scale], rel=0.2)
    assert fit.extra["loglik"] > plain.extra["loglik"] + 10  # the scale is really needed here


def test_fit_all_prefers_the_plain_beta_when_the_scale_adds_nothing():
    # the likelihood-ratio test works at 5%: on plain-Beta data it should rarely pick the scaled Beta
    chosen = []
    for seed in range(10):
        rng = np.random.default_rng(seed)
        fs = fit_all(counts_from_rates(rng.beta(0.5, 3.0, size=500), 100, rng), 0, rng, intervals=False)
        chosen.append(fs.best_distributional)
        assert fs.methods()["distributional"] is fs.fits[fs.best_distributional]
        for fit in fs.fits.values():
            assert fit.err_mean < 0.02  # each law follows a beta-binomial coverage curve closely
    assert chosen.count("scaled_beta") <= 3  # P(>= 4 of 10) ~ 0.001 at a 5% test
    assert chosen.count("beta_binomial") >= 7


@pytest.mark.parametrize(
    ("c", "label"),
    [(np.zeros(5, dtype=np.int64), "no problem"), (np.full(5, 10, dtype=np.int64), "every sample")],
)
def test_all_zero_and_all_one_counts_give_labelled_degenerate_fits(c, label):
    counts = Counts("d", np.arange(5).astype(str), np.full(5, 10), c)
    fs = fit_all(counts, 20, np.random.default_rng(0))
    assert (
        fs.fits["beta_binomial"].degenerate.find(label) >= 0
        or "point at 1" in fs.fits["beta_binomial"].degenerate
    )
    assert fs.fits["power_law"].degenerate
    assert np.isnan(fs.fits["power_law"].predict([100])[0])
    assert fs.fits["power_law"].summary()["a"] is None


def test_a_single_problem_still_fits_the_curve_laws():
    counts = Counts("one", np.array(["0"]), np.array([1000]), np.array([3]))
    fs = fit_all(counts, 50, np.random.default_rng(0))
    assert fs.fits["power_law"].degenerate is None
    assert fs.fits["power_law"].draws is None  # no resampling of a single problem
    assert "single problem" in fs.fits["beta_binomial"].degenerate


def test_a_configs_numbers_do_not_depend_on_the_other_configs_in_the_call():
    from monkeys.analysis.report import fit_scaling

    rng = np.random.default_rng(8)
    a = counts_from_rates(rng.beta(0.3, 2.0, 60), 200, rng)
    b = counts_from_rates(rng.beta(0.5, 1.0, 40), 200, rng)
    a = Counts("task_A", a.problems, a.n, a.c)
    b = Counts("task_B", b.problems, b.n, b.c)
    alone, _, _ = fit_scaling({"task_A": a}, 50, 0, 2000)
    together, _, _ = fit_scaling({"task_B": b, "task_A": a}, 50, 0, 2000)
    one, other = alone.config("task_A"), together.config("task_A")
    assert one.coverage_ci == other.coverage_ci
    assert one.fit("power_law").spread == other.fit("power_law").spread
    assert one.extrapolation.recommended == other.extrapolation.recommended
    assert one.extrapolation.interval == other.extrapolation.interval
