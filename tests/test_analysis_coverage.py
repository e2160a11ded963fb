"""pass@k against exact combinatorics, bootstrap intervals, and breakdowns."""

from __future__ import annotations

from fractions import Fraction
from math import comb

import numpy as np
import pytest

from monkeys.analysis.coverage import (
    bootstrap_coverage,
    coverage,
    curve_ks,
    interval,
    log_spaced_ks,
    pass_at_k,
    per_subject,
    report_ks,
)
from monkeys.errors import MonkeysError


def exact_pass_at_k(n: int, c: int, k: int) -> Fraction:
    return 1 - Fraction(comb(n - c, k), comb(n, k))


def test_pass_at_k_matches_exact_combinatorics_for_every_small_n_c_k():
    cases = [(n, c) for n in range(1, 13) for c in range(n + 1)]
    n = np.array([a for a, _ in cases])
    c = np.array([b for _, b in cases])
    got = pass_at_k(n, c, np.arange(1, 13))
    for i, (nn, cc) in enumerate(cases):
        for k in range(1, 13):
            if k > nn:
                assert np.isnan(got[i, k - 1])
            else:
                assert got[i, k - 1] == pytest.approx(float(exact_pass_at_k(nn, cc, k)), abs=1e-14)


def test_pass_at_k_stays_accurate_for_large_n_and_rare_successes():
    # one success in 10,000: pass@k = k / n exactly; naive binomials would overflow
    got = pass_at_k([10_000, 10_000], [1, 9_999], [1, 10, 5_000, 10_000])
    assert got[0] == pytest.approx([1e-4, 1e-3, 0.5, 1.0], rel=1e-12)
    assert got[1, 1:] == pytest.approx([1.0, 1.0, 1.0])
    assert got[1, 0] == pytest.approx(0.9999, rel=1e-12)


def test_coverage_is_the_mean_over_problems_and_shared_rows_do_not_change_it():
    n = np.array([10, 10, 10, 20])
    c = np.array([0, 3, 3, 5])
    ks = [1, 2, 5, 10]
    want = np.mean([[float(exact_pass_at_k(a, b, k)) for k in ks] for a, b in zip(n, c, strict=True)], axis=0)
    assert coverage(n, c, ks) == pytest.approx(want, abs=1e-14)


def test_coverage_beyond_the_samples_drawn_is_a_clear_error():
    with pytest.raises(MonkeysError, match="exceeds the 10 samples"):
        coverage(np.array([10, 20]), np.array([1, 2]), [11])
    with pytest.raises(MonkeysError, match="k >= 1"):
        coverage(np.array([10]), np.array([1]), [0])


def test_bootstrap_interval_covers_the_estimate_and_shrinks_with_more_problems():
    rng = np.random.default_rng(0)
    p = rng.beta(0.3, 3.0, size=2000)
    c = rng.binomial(100, p)
    n = np.full(2000, 100)
    ks = [1, 10, 100]
    small = bootstrap_coverage(n[:100], c[:100], ks, 500, rng)
    large = bootstrap_coverage(n, c, ks, 500, rng)
    lo, hi = interval(large)
    est = coverage(n, c, ks)
    assert np.all(lo <= est) and np.all(est <= hi)
    # standard error of a mean scales like 1/sqrt(problems): 20x the problems, ~4.5x narrower
    ratio = small.std(axis=0) / large.std(axis=0)
    assert np.all((ratio > 3.0) & (ratio < 6.5))


def test_k_grids():
    assert report_ks(10_000) == [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000]
    assert report_ks(128) == [1, 2, 5, 10, 20, 50, 100, 128]
    ks = log_spaced_ks(10_000, 40)
    assert len(ks) == 40 and ks[0] == 1 and ks[-1] == 10_000 and np.all(np.diff(ks) >= 0)
    assert list(curve_ks(50)) == list(range(1, 51))
    assert set(report_ks(10_000)) <= set(curve_ks(10_000).tolist())


def test_per_subject_breakdown_splits_problems():
    n = np.array([4, 4, 4])
    c = np.array([4, 0, 2])
    out = per_subject(n, c, np.array(["algebra", "geometry", "algebra"]), [1, 4])
    assert out["algebra"]["problems"] == 2
    assert out["algebra"]["coverage"]["1"] == pytest.approx(0.75)
    assert out["geometry"]["coverage"]["4"] == 0.0
