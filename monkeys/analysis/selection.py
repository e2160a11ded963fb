"""Picking one answer without an oracle: majority vote, best-of-k by a score, and score-weighted vote.

Each problem gives its samples as integer answer groups (equivalent answers share a label, -1 = no answer,
which never votes), whether each sample is correct, and optional per-sample scores. For a subset of k
samples, majority vote picks the most common group; tied groups win with equal chance (a tie between a
right and a wrong group counts 1/2). A group's correctness is the share of its samples that passed.

Two estimates per k, as the issue asks:
- `exact`: the mean over all C(n, k) subsets. Majority vote uses a generating function over the groups'
  vote counts (float polynomials, so n <= 1000 and a work budget); beyond that an unbiased Monte Carlo mean
  over many random subsets stands in and is labelled so. Best-of-k has a closed form for every n.
- `subsets`: the paper's protocol, mean and std over 100 random subsets of size k (per repetition the
  accuracy over problems; each repetition's subsets of size k are prefixes of one random permutation).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from monkeys.errors import MonkeysError

EXACT_MAX_N = 1000  # float polynomial coefficients C(n,k)/2^n underflow beyond this
EXACT_BUDGET = 200_000_000  # estimated multiply-adds per problem (~1 s) before falling back to Monte Carlo
MC_SUBSETS = 1000


@dataclass(frozen=True)
class Votes:
    """One problem's samples: answer group per sample (-1 = abstain), correctness, and optional scores."""

    problem: str
    labels: np.ndarray  # int
    correct: np.ndarray  # bool
    scores: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.labels) != len(self.correct) or any(
            len(s) != len(self.labels) for s in self.scores.values()
        ):
            raise MonkeysError(f"problem {self.problem}: labels, correctness and scores differ in length")


def _groups(labels: np.ndarray, correct: np.ndarray) -> tuple[np.ndarray, np.ndarray, int, np.ndarray]:
    """Group sizes, share correct per group, abstentions, and labels renumbered 0..G-1 (-1 kept)."""
    voting = labels >= 0
    uniq, inverse = np.unique(labels[voting], return_inverse=True)
    sizes = np.bincount(inverse, minlength=len(uniq))
    right = np.bincount(inverse, weights=correct[voting].astype(np.float64), minlength=len(uniq))
    dense = np.full(len(labels), -1, dtype=np.int64)
    dense[voting] = inverse
    with np.errstate(invalid="ignore"):
        share = np.where(sizes > 0, right / np.maximum(sizes, 1), 0.0)
    return sizes, share, int((~voting).sum()), dense


def _half_pmf(m: int) -> np.ndarray:
    """C(m, x) / 2^m for x = 0..m (coefficients of ((1+z)/2)^m)."""
    return stats.binom.pmf(np.arange(m + 1), m, 0.5)


def _exact_cost(sizes: np.ndarray, share: np.ndarray, n: int) -> float:
    cost = 0.0
    for g in np.flatnonzero(share > 0):
        for t in range(1, int(sizes[g]) + 1):
            comp = int(((sizes >= t).sum()) - 1)
            cost += comp * (comp + 1) / 2 * n * t
    return cost


def majority_exact_problem(labels: np.ndarray, correct: np.ndarray) -> np.ndarray | None:
    """P(majority vote is correct) averaged over all C(n, k) subsets, for k = 1..n (index k-1).

    For a correct group g with t votes in the subset, every other group must have < t votes, or exactly t
    (a tie). The generating function in z (subset size) and w (number of tied rivals) is
        C(m_g, t) z^t * prod_i [sum_{x<t} C(m_i, x) z^x + C(m_i, t) z^t w] * (1+z)^(others that cannot reach t),
    and g's fair share of subsets of size k is sum_j [z^k w^j] / (j + 1). Returns None when n or the work
    would be too large for float coefficients (the caller then uses Monte Carlo)."""
    n = len(labels)
    sizes, share, abstain, _ = _groups(np.asarray(labels), np.asarray(correct))
    if n > EXACT_MAX_N or _exact_cost(sizes, share, n) > EXACT_BUDGET:
        return None
    pmfs = {int(m): _half_pmf(int(m)) for m in set(sizes.tolist()) | {abstain}}
    total = np.zeros(n + 1)
    for g in np.flatnonzero(share > 0):
        others = np.delete(sizes, g)
        for t in range(1, int(sizes[g]) + 1):
            rivals = others[others >= t]
            rest = abstain + int(others[others < t].sum())
            acc = _half_pmf(rest)[None, :]  # rows: number of tied rivals so far
            for m in rivals:
                below, at = pmfs[int(m)][:t], pmfs[int(m)][t]
                deg = acc.shape[1] - 1
                nxt = np.zeros((acc.shape[0] + 1, deg + t + 1))
                for j in range(acc.shape[0]):
                    nxt[j, : deg + t] += np.convolve(acc[j], below)
                nxt[1:, t : t + deg + 1] += at * acc
                acc = nxt
            fair = (acc / np.arange(1, acc.shape[0] + 1)[:, None]).sum(axis=0)
            total[t : t + len(fair)] += share[g] * pmfs[int(sizes[g])][t] * fair
    # every coefficient above carries 2^-n; so does C(n, k) / 2^n
    return total[1:] / _half_pmf(n)[1:]


def _rank_scores(scores: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Strict ranks (higher is better) with ties broken uniformly at random, which splits ties fairly."""
    order = np.lexsort((rng.random(len(scores)), np.nan_to_num(scores, nan=-np.inf)))
    ranks = np.empty(len(scores), dtype=np.int64)
    ranks[order] = np.arange(len(scores))
    return ranks


def _prefix_votes(
    dense: np.ndarray, share: np.ndarray, perms: np.ndarray, weights: np.ndarray | None
) -> np.ndarray:
    """Correctness of (weighted) majority vote over every prefix of each permutation, shape (S, n)."""
    if len(share) == 0:
        return np.zeros(perms.shape)
    lab = dense[perms]  # (S, n)
    if weights is None:
        return _prefix_majority(lab, share)
    onehot = lab[..., None] == np.arange(len(share))  # abstentions match no group
    tally = np.cumsum(onehot * weights[perms][..., None], axis=1)
    top = tally.max(axis=2, keepdims=True)
    tied = (tally == top) & (top > 0)
    return (tied * share).sum(axis=2) / np.maximum(tied.sum(axis=2), 1)


def _prefix_majority(lab: np.ndarray, share: np.ndarray) -> np.ndarray:
    """Unweighted majority over prefixes without a tally per group: counts rise by one per sample, so the
    leading count only grows when the sample just added reaches a new high, and the groups tied at the
    top are exactly those that reached the current high since it was set."""
    s, n = lab.shape
    order = np.argsort(lab, axis=1, kind="stable")  # by group, then position
    sorted_lab = np.take_along_axis(lab, order, axis=1)
    first = np.ones_like(sorted_lab, dtype=bool)
    first[:, 1:] = sorted_lab[:, 1:] != sorted_lab[:, :-1]
    idx = np.broadcast_to(np.arange(n), (s, n))
    start = np.maximum.accumulate(np.where(first, idx, 0), axis=1)
    occ = np.empty_like(lab)
    np.put_along_axis(occ, order, idx - start + 1, axis=1)  # k-th appearance of its group in the prefix
    occ[lab < 0] = 0  # abstentions never vote
    top = np.maximum.accumulate(occ, axis=1)
    reach = (occ == top) & (top > 0)
    new_high = np.ones((s, n), dtype=bool)
    new_high[:, 1:] = top[:, 1:] > top[:, :-1]
    seg_start = np.maximum.accumulate(np.where(new_high, idx, 0), axis=1)
    reached = np.cumsum(reach, axis=1)
    before = np.take_along_axis(
        np.concatenate([np.zeros((s, 1), dtype=reached.dtype), reached[:, :-1]], axis=1), seg_start, axis=1
    )
    tied = reached - before  # groups at the top count
    out = np.zeros((s, n))
    for g in np.flatnonzero(share > 0):
        tally = np.cumsum(lab == g, axis=1)
        out += share[g] * ((tally == top) & (top > 0))
    return out / np.maximum(tied, 1)


def _prefix_best(ranks: np.ndarray, correct: np.ndarray, perms: np.ndarray) -> np.ndarray:
    r = ranks[perms]
    best = np.maximum.accumulate(r, axis=1)
    # the best-ranked sample of each prefix: ranks are unique, so look it up through the inverse
    inv = np.empty_like(ranks)
    inv[ranks] = np.arange(len(ranks))
    return correct[inv[best]].astype(np.float64)


def _chunks(s: int, n: int, groups: int) -> int:
    return max(1, min(s, 20_000_000 // max(1, n * max(groups, 1))))


def subsets_protocol(
    problems: list[Votes], k_max: int, method: str, score: str | None, subsets: int, rng: np.random.Generator
) -> np.ndarray:
    """Accuracy over problems for each of `subsets` repetitions and every k <= k_max, shape (subsets, k_max)."""
    acc = np.zeros((subsets, k_max))
    for v in problems:
        n = len(v.labels)
        sizes, share, _, dense = _groups(v.labels, v.correct)
        perms = rng.permuted(np.tile(np.arange(n), (subsets, 1)), axis=1)[:, :k_max]
        if method == "best_of_k":
            acc += _prefix_best(_rank_scores(v.scores[score], rng), v.correct, perms)
            continue
        weights = None if method == "majority" else _vote_weights(v.scores[score])
        step = _chunks(subsets, k_max, len(share) if weights is not None else 8)
        for s0 in range(0, subsets, step):
            acc[s0 : s0 + step] += _prefix_votes(dense, share, perms[s0 : s0 + step], weights)
    return acc / len(problems)


def _vote_weights(scores: np.ndarray) -> np.ndarray:
    if np.any(scores < 0) or np.any(~np.isfinite(scores)):
        raise MonkeysError("score-weighted vote needs finite scores >= 0; use probabilities or rewards")
    return scores


def majority_all_subsets(
    problems: list[Votes], k_max: int, rng: np.random.Generator
) -> tuple[np.ndarray, str]:
    """Mean over problems of the all-subsets majority accuracy at k = 1..k_max, and how it was computed."""
    total = np.zeros(k_max)
    mc = 0
    for v in problems:
        exact = majority_exact_problem(v.labels, v.correct)
        if exact is None:
            mc += 1
            sizes, share, _, dense = _groups(v.labels, v.correct)
            perms = rng.permuted(np.tile(np.arange(len(v.labels)), (MC_SUBSETS, 1)), axis=1)[:, :k_max]
            step = _chunks(MC_SUBSETS, k_max, len(share))
            est = sum(
                _prefix_votes(dense, share, perms[s : s + step], None).sum(axis=0)
                for s in range(0, MC_SUBSETS, step)
            )
            total += est / MC_SUBSETS
        else:
            total += exact[:k_max]
    how = (
        "exact over all subsets"
        if mc == 0
        else (
            f"exact for {len(problems) - mc} problems; unbiased Monte Carlo ({MC_SUBSETS} random subsets per k) "
            f"for {mc} too large for exact sums"
        )
    )
    return total / len(problems), how


def choose_ratio_table(n: int, ks: np.ndarray) -> np.ndarray:
    """T[a, j] = C(a, ks[j]) / C(n, ks[j]) for a = 0..n (0 where a < k): the chance that a k-subset of n
    samples avoids n - a given ones, i.e. 1 - pass@k with n - a correct; shared by problems with equal n."""
    from monkeys.analysis.coverage import pass_at_k

    a = np.arange(n + 1)
    return 1.0 - pass_at_k(np.full(n + 1, n), n - a, ks)


def best_of_k_exact_problem(
    scores: np.ndarray, correct: np.ndarray, ks: np.ndarray, table: np.ndarray | None = None
) -> np.ndarray:
    """P(the top-scored sample of a random k-subset is correct), exactly, ties split fairly.

    With r samples scored above a tied block of b samples, the subset's top block is this one with
    probability [C(n-r, k) - C(n-r-b, k)] / C(n, k); within it each chosen sample is equally likely.
    `table` is choose_ratio_table(n, ks), passed in to share it across problems."""
    n = len(scores)
    s = np.nan_to_num(np.asarray(scores, dtype=np.float64), nan=-np.inf)
    order = np.argsort(-s, kind="stable")
    s_sorted, c_sorted = s[order], np.asarray(correct, dtype=np.float64)[order]
    starts = np.flatnonzero(np.r_[True, s_sorted[1:] != s_sorted[:-1]])
    sizes = np.diff(np.r_[starts, n])
    share = np.add.reduceat(c_sorted, starts) / sizes
    t = choose_ratio_table(n, np.asarray(ks)) if table is None else table
    # sum_b share_b * (T[n - r_b] - T[n - r_b - s_b]) as one weighted sum over the rows of T
    w = np.bincount(n - starts, weights=share, minlength=n + 1) - np.bincount(
        n - starts - sizes, weights=share, minlength=n + 1
    )
    return w @ t


def plateau_k(curve: np.ndarray, ks: np.ndarray, within: float = 0.01) -> int | None:
    """Smallest k from which the curve stays within `within` (absolute) of its final value."""
    if len(curve) == 0 or not np.all(np.isfinite(curve)):
        return None
    off = np.abs(curve - curve[-1]) > within
    if not off.any():
        return int(ks[0])
    last = int(np.flatnonzero(off)[-1])
    return int(ks[min(last + 1, len(ks) - 1)])


def auroc(scores: np.ndarray, correct: np.ndarray) -> float | None:
    """P(a random correct sample outscores a random incorrect one), ties counting 1/2 (Mann-Whitney U);
    None when either class is empty. Unscored (nan) samples are left out."""
    s = np.asarray(scores, dtype=np.float64)
    c = np.asarray(correct, dtype=bool)
    keep = ~np.isnan(s)
    s, c = s[keep], c[keep]
    pos, neg = int(c.sum()), int((~c).sum())
    if pos == 0 or neg == 0:
        return None
    ranks = stats.rankdata(s)  # average ranks: ties split
    return float((ranks[c].sum() - pos * (pos + 1) / 2) / (pos * neg))


def scorer_as_verifier(problems: list[Votes], score: str) -> dict[str, float | int | None]:
    """How well one score separates right from wrong samples: AUROC pooled over all samples, the mean
    within-problem AUROC over problems holding both right and wrong samples (what best-of-k relies on),
    and precision at the top (the share of problems whose top-scored sample is right, ties split; equal
    to best-of-k at k = n)."""
    scores = np.concatenate([v.scores[score] for v in problems])
    correct = np.concatenate([v.correct for v in problems])
    within = [auroc(v.scores[score], v.correct) for v in problems]
    within = [a for a in within if a is not None]
    top = [
        float(best_of_k_exact_problem(v.scores[score], v.correct, np.array([len(v.labels)]))[0])
        for v in problems
        if len(v.labels)
    ]
    return {
        "samples": int(len(scores)),
        "auroc": auroc(scores, correct),
        "auroc_within": float(np.mean(within)) if within else None,
        "problems_mixed": len(within),
        "top1_precision": float(np.mean(top)) if top else None,
    }
