"""Extrapolation back-tests on the paper's released outcomes (100 of 10,000 samples -> coverage at 10,000)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from monkeys.analysis.coverage import coverage
from monkeys.analysis.extrapolate import backtest, extrapolate
from monkeys.analysis.fits import fit_all
from monkeys.analysis.outcomes import Counts, hypergeometric_subsample, read_outcomes
from monkeys.analysis.results import Backtest, BacktestMethod, Prediction


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
    """100 of 10,000 samples -> coverage at 10,000, 2 subsamples per config: the recommended model average's
    mean error stays small and its 95% interval holds the truth in most cases (BENCHMARKS.md has the fuller
    run over 12 subsamples per config). Measured here: mean error 0.039, worst 0.17, intervals hold the truth
    in 21 of 22 cases. The bounds leave room for 22 cases' noise."""
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
    assert np.mean(errors) < 0.045  # 0.039 on these 22 cases; assuming no growth past k=100 is off by 0.27
    assert max(errors) < 0.2  # one subsample of 100 can be unlucky (0.17 here)
    assert np.mean(inside) >= 0.85  # 0.95 here


@pytest.mark.e2e
def test_extrapolation_from_1000_samples_brackets_the_truth_and_recommends_a_method(outcomes):
    counts = outcomes["MATH_Llama-3-8B-Instruct"]
    rng = np.random.default_rng(1)
    sub = hypergeometric_subsample(counts, 1000, rng)
    truth = float(coverage(counts.n, counts.c, [10_000])[0])
    out = extrapolate(fit_all(sub, 100, rng), 10_000, rng, reps=2)
    assert out.recommended == "model_average"
    rec = out.model_average
    assert rec is not None and out.interval == rec
    assert rec.low <= rec.coverage <= rec.high
    assert abs(rec.coverage - truth) < 0.03
    assert rec.low <= truth <= rec.high
    weights = dict(rec.weights)
    assert set(weights) <= {"power_law", "neg_log_power_law", "distributional"}
    assert sum(weights.values()) == pytest.approx(1.0)
    average = sum(w * out.prediction(m).coverage for m, w in weights.items())
    assert rec.coverage == pytest.approx(average)
    assert out.backtest.fit_samples == 100  # same 10x ratio, played out inside the 1000 samples


def test_k_within_the_samples_is_measured_not_extrapolated(outcomes):
    counts = outcomes["MATH_Pythia-70M"]
    rng = np.random.default_rng(0)
    out = extrapolate(fit_all(counts, 20, rng), 500, rng)
    assert out.recommended == "empirical"
    assert out.empirical.coverage == pytest.approx(float(coverage(counts.n, counts.c, [500])[0]))


# -- the back-test-weighted model average --------------------------------------------------------------------
def _bt(truth: float, predictions: dict[str, list[float | None]]) -> Backtest:
    methods = tuple(
        (m, BacktestMethod(None, None, None, v.count(None), tuple(v))) for m, v in predictions.items()
    )
    return Backtest(10, 100, truth, len(next(iter(predictions.values()))), methods)


def test_weights_are_inverse_mean_squared_back_test_errors():
    from monkeys.analysis.extrapolate import backtest_weights

    bt = _bt(0.5, {"power_law": [0.6, 0.4, 0.5], "neg_log_power_law": [0.55, 0.45, 0.5]})
    weights, how, mse = backtest_weights(bt, ["power_law", "neg_log_power_law"])
    # mse 0.02/3 against 0.005/3: the second law is 4x as precise, so it weighs 4x as much
    assert weights["neg_log_power_law"] == pytest.approx(0.8)
    assert weights["power_law"] == pytest.approx(0.2)
    assert "3 subsamples" in how
    # the average predicts 0.56, 0.44, 0.5: its own back-test error
    assert mse == pytest.approx((0.06**2 + 0.06**2) / 3)


def test_laws_are_compared_on_the_subsamples_where_all_of_them_fitted():
    from monkeys.analysis.extrapolate import backtest_weights

    # the distributional fit failed on the third subsample, where the curve laws did worst: comparing on
    # all subsamples would reward it for failing there
    bt = _bt(
        0.5,
        {
            "power_law": [0.51, 0.49, 0.9],
            "neg_log_power_law": [0.52, 0.48, 0.9],
            "distributional": [0.52, 0.48, None],
        },
    )
    weights, _, _ = backtest_weights(bt, ["power_law", "neg_log_power_law", "distributional"])
    assert weights["power_law"] == pytest.approx(4 / 6)
    assert weights["neg_log_power_law"] == pytest.approx(weights["distributional"])


def test_a_law_without_a_back_test_record_gets_no_weight_and_no_record_means_equal_weights():
    from monkeys.analysis.extrapolate import backtest_weights

    bt = _bt(0.5, {"power_law": [0.6, 0.4, 0.5], "distributional": [None, None, 0.5]})
    weights, how, _ = backtest_weights(bt, ["power_law", "distributional"])
    assert weights == {"power_law": 1.0, "distributional": 0.0}
    assert "could not be fitted on most back-test subsamples" in how
    none = _bt(0.5, {"power_law": [None, None], "distributional": [None, None]})
    weights, how, mse = backtest_weights(none, ["power_law", "distributional"])
    assert weights == {"power_law": 0.5, "distributional": 0.5} and "equal weights" in how and mse == 0


def test_model_average_interval_adds_the_laws_disagreement_to_their_own_variance():
    from statistics import NormalDist

    from monkeys.analysis.extrapolate import model_average

    z = NormalDist().inv_cdf(0.975)
    out = {
        "power_law": Prediction(0.4, 0.4 - z * 0.03, 0.4 + z * 0.03),
        "neg_log_power_law": Prediction(0.6, None, None),  # no interval: own sd 0
    }
    avg = model_average(out, {"power_law": 0.25, "neg_log_power_law": 0.75}, 0.95, backtest_mse=0.02**2)
    assert avg.coverage == pytest.approx(0.55)
    var = 0.25 * (0.03**2 + 0.15**2) + 0.75 * 0.05**2 + 0.02**2
    assert avg.high - avg.coverage == pytest.approx(z * np.sqrt(var))
    assert avg.coverage - avg.low == pytest.approx(z * np.sqrt(var))
    assert dict(avg.sd)["backtest"] == pytest.approx(0.02)
    assert avg.to_json()["weights"] == {"power_law": 0.25, "neg_log_power_law": 0.75}
    clipped = model_average({"power_law": Prediction(0.99, 0.9, 1.0)}, {"power_law": 1.0}, 0.95)
    assert clipped.high == 1.0


@pytest.mark.parametrize("rates", ["beta", "scaled_beta"])
def test_model_average_extrapolates_synthetic_counts_with_known_success_rates(rates):
    """400 problems whose success rates are drawn from a known law, 100 samples each: the truth at 10,000 is
    the mean of 1 - (1 - p)^10000 over the drawn rates. Measured over 12 seeds: mean error 0.019 (Beta; the
    curve laws run high on these and the back-test does not see it) and 0.007 (scaled Beta); intervals hold
    the truth in 11 and 12 of 12 (without the back-test term, 7 and 10). Here 4 seeds each."""
    from monkeys.analysis.report import one_blas_thread

    errors, inside, flat = [], [], []
    with one_blas_thread():
        for seed in range(4):
            rng = np.random.default_rng(seed)
            p = rng.beta(0.3, 4.0, 400) if rates == "beta" else 0.5 * rng.beta(0.4, 2.0, 400)
            c = rng.binomial(100, p)
            counts = Counts(rates, np.array([str(i) for i in range(400)]), np.full(400, 100), c)
            truth = float(np.mean(1 - (1 - p) ** 10_000))
            out = extrapolate(fit_all(counts, 100, rng), 10_000, rng)
            assert out.recommended == "model_average"
            iv = out.interval
            errors.append(abs(iv.coverage - truth))
            inside.append(iv.low <= truth <= iv.high)
            flat.append(truth - float(np.mean(c > 0)))
    assert np.mean(errors) < 0.025
    assert max(errors) < 0.04
    assert sum(inside) >= 3
    assert np.mean(flat) > 0.1  # the extrapolation has real work to do
