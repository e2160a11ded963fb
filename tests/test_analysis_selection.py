"""Majority vote and best-of-k against brute force over every subset; the random-subset protocol."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from monkeys.analysis.selection import (
    Votes,
    best_of_k_exact_problem,
    majority_all_subsets,
    majority_exact_problem,
    plateau_k,
    subsets_protocol,
)


def brute_majority(labels: np.ndarray, correct: np.ndarray, k: int) -> float:
    """Enumerate every k-subset; tied groups share the win; a group's correctness is its share correct."""
    groups = {g: float(np.mean(correct[labels == g])) for g in set(labels.tolist()) if g >= 0}
    total = 0.0
    subsets = list(itertools.combinations(range(len(labels)), k))
    for s in subsets:
        votes: dict[int, int] = {}
        for i in s:
            if labels[i] >= 0:
                votes[labels[i]] = votes.get(labels[i], 0) + 1
        if votes:
            top = max(votes.values())
            tied = [g for g, v in votes.items() if v == top]
            total += sum(groups[g] for g in tied) / len(tied)
    return total / len(subsets)


def brute_best(scores: np.ndarray, correct: np.ndarray, k: int) -> float:
    total = 0.0
    subsets = list(itertools.combinations(range(len(scores)), k))
    for s in subsets:
        top = max(scores[i] for i in s)
        total += np.mean([correct[i] for i in s if scores[i] == top])
    return total / len(subsets)


@pytest.mark.parametrize("seed", range(25))
def test_exact_majority_equals_brute_force_over_all_subsets(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 11))
    labels = rng.integers(-1, 4, n)  # -1 abstains
    right = int(rng.integers(0, 4))
    correct = labels == right if seed % 3 else rng.random(n) < 0.5  # also groups mixing pass and fail
    got = majority_exact_problem(labels, correct)
    want = [brute_majority(labels, correct, k) for k in range(1, n + 1)]
    assert got == pytest.approx(want, abs=1e-12)


def test_a_two_way_tie_between_right_and_wrong_counts_one_half():
    got = majority_exact_problem(np.array([0, 1]), np.array([True, False]))
    assert got[1] == pytest.approx(0.5)  # k = 2: one vote each
    assert got[0] == pytest.approx(0.5)  # k = 1: either sample alone


@pytest.mark.parametrize("seed", range(15))
def test_exact_best_of_k_equals_brute_force_with_tied_scores(seed):
    rng = np.random.default_rng(100 + seed)
    n = int(rng.integers(1, 11))
    scores = rng.integers(0, 4, n).astype(float)  # many ties
    correct = rng.random(n) < 0.5
    got = best_of_k_exact_problem(scores, correct, np.arange(1, n + 1))
    want = [brute_best(scores, correct, k) for k in range(1, n + 1)]
    assert got == pytest.approx(want, abs=1e-12)


def make_problems(rng: np.random.Generator, count: int, n: int) -> list[Votes]:
    out = []
    for i in range(count):
        groups = int(rng.integers(2, 7))
        labels = rng.choice(np.arange(-1, groups), size=n)
        right = int(rng.integers(0, groups))
        out.append(Votes(str(i), labels, labels == right, {"s": rng.random(n)}))
    return out


def test_random_subset_protocol_is_unbiased_for_the_all_subsets_mean():
    rng = np.random.default_rng(7)
    problems = make_problems(rng, 12, 40)
    exact, how = majority_all_subsets(problems, 40, rng)
    assert how == "exact over all subsets"
    sub = subsets_protocol(problems, 40, "majority", None, 3000, rng)
    se = sub.std(axis=0) / np.sqrt(len(sub))
    assert np.all(np.abs(sub.mean(axis=0) - exact) < 4.5 * se + 1e-12)
    best = np.mean(
        [best_of_k_exact_problem(p.scores["s"], p.correct, np.arange(1, 41)) for p in problems], axis=0
    )
    sub = subsets_protocol(problems, 40, "best_of_k", "s", 3000, rng)
    se = sub.std(axis=0) / np.sqrt(len(sub))
    assert np.all(np.abs(sub.mean(axis=0) - best) < 4.5 * se + 1e-12)
    # at k = n every subset is the whole set: no spread left
    assert sub[:, -1].std() == 0.0


def test_weighted_vote_with_equal_weights_is_majority_vote():
    problems = make_problems(np.random.default_rng(8), 6, 30)
    ones = [Votes(p.problem, p.labels, p.correct, {"w": np.ones(30)}) for p in problems]
    a = subsets_protocol(problems, 30, "majority", None, 50, np.random.default_rng(1))
    b = subsets_protocol(ones, 30, "weighted", "w", 50, np.random.default_rng(1))
    assert np.array_equal(a, b)


def test_heavy_weights_let_a_minority_answer_win():
    labels = np.array([0, 0, 0, 1])
    correct = np.array([False, False, False, True])
    votes = [Votes("p", labels, correct, {"w": np.array([1.0, 1.0, 1.0, 10.0])})]
    got = subsets_protocol(votes, 4, "weighted", "w", 200, np.random.default_rng(0))
    assert got[:, -1].mean() == 1.0  # with all four samples the weighted vote picks the single right one


def test_large_problems_fall_back_to_monte_carlo_and_say_so():
    rng = np.random.default_rng(9)
    n = 1200  # beyond float-polynomial range
    labels = rng.integers(0, 3, n)
    votes = [Votes("big", labels, labels == 0, {})]
    est, how = majority_all_subsets(votes, 50, rng)
    assert "Monte Carlo" in how
    assert 0.0 <= est[0] <= 1.0 and est[-1] > est[0] - 0.05


def test_plateau_is_where_the_curve_stops_moving():
    ks = np.arange(1, 11)
    curve = np.array([0.1, 0.3, 0.5, 0.6, 0.65, 0.66, 0.665, 0.665, 0.665, 0.665])
    assert plateau_k(curve, ks) == 6
