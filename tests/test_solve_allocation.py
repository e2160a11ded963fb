"""Budget allocation on simulated problems: the beta-binomial policy solves more than round-robin where the
counts carry information (strata of easy and hard problems; m > 1), and ties it where they cannot."""

from __future__ import annotations

import numpy as np

from monkeys.sampler.allocation import BetaBinomial, fit_beta_binomial
from monkeys.sampler.simulate import sim_config, simulate


def solved_under_budget(policy: str, m: int, strata: bool, seed: int) -> int:
    rng = np.random.default_rng(seed)
    cap, easy, hard = 200, 60, 60
    ps = np.concatenate([rng.beta(2, 18, easy), rng.beta(0.2, 200, hard)])  # mean 0.1 vs 0.001
    names = ["easy"] * easy + ["hard"] * hard
    order = rng.permutation(easy + hard)
    outcomes = [rng.random(cap) < ps[i] for i in order]
    config = sim_config(cap, successes=m, budget_samples=1500, policy=policy, in_flight=8, growth=0.25)
    res = simulate(outcomes, config, rng, strata=[names[i] for i in order] if strata else None)
    assert res.issued <= 1500
    return sum(s.status == "solved" for s in res.states)


def test_beta_binomial_with_strata_beats_round_robin_for_a_first_pass() -> None:
    rr = [solved_under_budget("round-robin", 1, True, s) for s in range(12)]
    bb = [solved_under_budget("beta-binomial", 1, True, s) for s in range(12)]
    assert np.mean(bb) > np.mean(rr) + 3, (np.mean(bb), np.mean(rr))


def test_beta_binomial_beats_round_robin_for_three_passes() -> None:
    rr = [solved_under_budget("round-robin", 3, False, s) for s in range(12)]
    bb = [solved_under_budget("beta-binomial", 3, False, s) for s in range(12)]
    assert np.mean(bb) > np.mean(rr) + 3, (np.mean(bb), np.mean(rr))


def test_fitted_prior_recovers_the_beta_of_simulated_counts() -> None:
    rng = np.random.default_rng(3)
    p = rng.beta(2.0, 6.0, 4000)
    n = np.full(4000, 50)
    a, b = fit_beta_binomial(n, rng.binomial(n, p))
    assert abs(a / (a + b) - 0.25) < 0.01 and 1.2 < a < 3.0


def test_beta_binomial_orders_unsolved_problems_like_round_robin_without_strata() -> None:
    from monkeys.sampler.allocation import Arm, RoundRobin

    arms = [Arm(i, n, 0, n) for i, n in enumerate([5, 2, 9, 2, 0, 7])]
    assert BetaBinomial().choose(arms, arms) == RoundRobin().choose(arms, arms) == 4
