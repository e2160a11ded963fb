"""The stopping-time estimator of 1 - pass@k is exactly unbiased (enumeration) and unbiased through the
chunked solve loop whatever order chunks arrive in (Monte Carlo)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from monkeys.analysis.stopping import Stops, fail_at_k, max_k, read_in_order, stop_coverage


def exact_expectation(p: float, m: int, cap: int, k: int) -> float:
    """E[estimate] by enumerating every outcome of the stopped sequence."""
    total = 0.0
    for n in range(m, cap + 1):  # m-th pass on sample n
        prob = math.comb(n - 1, m - 1) * p**m * (1 - p) ** (n - m)
        total += prob * fail_at_k(np.array([n]), np.array([m]), np.array([True]), m, [k])[0, 0]
    for s in range(m):  # cap reached with s < m passes
        prob = math.comb(cap, s) * p**s * (1 - p) ** (cap - s)
        total += prob * fail_at_k(np.array([cap]), np.array([s]), np.array([False]), m, [k])[0, 0]
    return total


@pytest.mark.parametrize("m", [1, 2, 3, 5])
@pytest.mark.parametrize("p", [0.01, 0.2, 0.5, 0.9])
def test_stopping_estimator_is_exactly_unbiased(m: int, p: float) -> None:
    cap = 30
    for k in (1, 2, 5, 13, 30):
        assert exact_expectation(p, m, cap, k) == pytest.approx((1 - p) ** k, abs=1e-12)


def test_naive_estimator_on_the_stopped_samples_is_biased() -> None:
    """The full-sampling formula applied to (N, m) is what the stop rule would break: it is biased."""
    p, cap, k = 0.2, 30, 5
    naive = 0.0
    for n in range(1, cap + 1):
        prob = p * (1 - p) ** (n - 1)
        naive += prob * (math.comb(n - 1, k) / math.comb(n, k) if k <= n else 0.0)
    naive += (1 - p) ** cap
    assert abs(naive - (1 - p) ** k) > 0.02


def test_read_in_order_stops_at_mth_pass_and_ignores_overshoot_and_gaps() -> None:
    idx = np.array([3, 0, 1, 2, 4, 5, 6])
    ok = np.array([1, 0, 1, 0, 1, 1, 1], dtype=bool)  # index order: 0 F, 1 P, 2 F, 3 P, 4 P ...
    assert read_in_order(idx, ok, 2, 100) == (4, 2, True)
    assert read_in_order(idx, ok, 1, 100) == (2, 1, True)
    # a gap at index 1: only index 0 can be read
    assert read_in_order(np.array([0, 2, 3]), np.array([0, 1, 1], dtype=bool), 1, 100) == (1, 0, False)
    # the cap cuts the reading
    assert read_in_order(np.arange(10), np.zeros(10, dtype=bool), 1, 6) == (6, 0, False)


def test_budget_cut_problem_limits_the_reported_k() -> None:
    stops = Stops(np.array(["a", "b"]), np.array([3, 7]), np.array([1, 0]), np.array([True, False]), 1, 10)
    assert max_k(stops) == 7
    cov = stop_coverage(stops, [1, 3, 7])
    np.testing.assert_allclose(cov, [0.0 / 2 + 0.0, 0.5, 0.5])
