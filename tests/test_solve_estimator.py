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


@pytest.mark.parametrize("m", [1, 3])
@pytest.mark.parametrize("order", ["random", "lifo"])
def test_estimator_through_the_chunked_loop_is_unbiased_whatever_the_arrival_order(
    m: int, order: str
) -> None:
    """Many replays of the real loop (growing chunks, several in flight, random or newest-first arrival):
    the mean estimate of 1 - pass@k matches (1 - p)^k within Monte Carlo error."""
    from monkeys.sampler.simulate import sim_config, simulate

    ps = np.array([0.03, 0.15, 0.4, 0.8])
    cap, ks, reps = 40, np.array([1, 2, 4, 8, 16, 40]), 3000
    rng = np.random.default_rng(7 + m)
    est = np.zeros((reps, len(ps), len(ks)))
    config = sim_config(cap, successes=m, in_flight=6, growth=0.5, policy="round-robin")
    for r in range(reps):
        outcomes = [rng.random(cap) < p for p in ps]
        res = simulate(outcomes, config, rng, order=order)
        n = np.array([s.read for s in res.states])
        s = np.array([s.passes for s in res.states])
        stopped = np.array([st.status == "solved" for st in res.states])
        assert all(st.done for st in res.states)
        est[r] = fail_at_k(n, s, stopped, m, ks)
    truth = (1 - ps[:, None]) ** ks[None, :]
    mean = est.mean(axis=0)
    se = est.std(axis=0, ddof=1) / np.sqrt(reps)
    # where no replay saw the rare event (se = 0), judge by the binomial error of the truth instead
    se = np.maximum(se, np.sqrt(truth * (1 - truth) / reps) + 1e-12)
    z = np.abs(mean - truth) / se
    assert np.all(z < 4.5), (z.max(), mean - truth, se)


def test_distinct_successes_keep_the_m_pass_estimate_unbiased() -> None:
    """`--successes m` counting distinct programs: each pass is one of two programs (weights 0.85, 0.15),
    so the m-th distinct pass comes well after the m-th pass. The m-pass estimate at the m-th pass, counting
    every pass (a stopping time no later than the distinct stop), stays unbiased; the same formula at the
    distinct stop is not."""
    from monkeys.sampler.simulate import sim_config, simulate
    from monkeys.sampler.solve import stops_of

    ps = np.array([0.05, 0.3, 0.7])
    cap, m, ks, reps = 30, 2, np.array([1, 2, 4, 8, 16, 30]), 1200
    rng = np.random.default_rng(11)
    config = sim_config(cap, successes=m, in_flight=5, growth=0.5, policy="round-robin", distinct=True)
    est = np.zeros((reps, len(ps), len(ks)))
    naive = np.zeros_like(est)
    waited = 0
    for r in range(reps):
        outcomes = [rng.random(cap) < p for p in ps]
        programs = [[f"def f():\n    return {int(x)}  # c{j}" for j, x in enumerate(rng.random(cap) < 0.15)]
                    for _ in ps]  # fmt: skip
        res = simulate(outcomes, config, rng, programs=programs)
        stops = stops_of(res.states, m, cap)
        est[r] = fail_at_k(stops.n, stops.s, stops.stopped, m, ks)
        waited += sum(
            s.stop_at is not None and s.m_read is not None and s.stop_at > s.m_read for s in res.states
        )
        solved = np.array([st.status == "solved" for st in res.states])
        naive[r] = fail_at_k(
            np.array([st.read for st in res.states]), np.where(solved, m, [st.passes for st in res.states]),
            solved, m, ks,
        )  # fmt: skip
        for st in res.states:  # distinct means distinct up to comments: "return 0" and "return 1"
            assert st.status != "solved" or len(st.distinct) == m
    assert waited > reps  # the distinct stop did come later than the m-th pass, often
    truth = (1 - ps[:, None]) ** ks[None, :]
    se = np.maximum(est.std(axis=0, ddof=1) / np.sqrt(reps), np.sqrt(truth * (1 - truth) / reps) + 1e-12)
    z = np.abs(est.mean(axis=0) - truth) / se
    assert np.all(z < 4.5), (z.max(), est.mean(axis=0) - truth)
    assert np.nanmax(np.abs(naive.mean(axis=0) - truth) / se) > 8
