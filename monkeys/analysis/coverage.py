"""Coverage (pass@k): the unbiased estimator of Chen et al. (2021), bootstrap intervals and breakdowns.

For a problem with n samples of which c are correct, the unbiased estimate of the chance that k samples
drawn without replacement hold at least one correct one is

    pass@k = 1 - C(n-c, k) / C(n, k) = 1 - prod_{i<k} (1 - c / (n - i)),

computed here in logs as log (n-c)! + log (n-k)! - log (n-c-k)! - log n! from a table of log m! kept in
extended precision (no huge binomials; ~1e-14 absolute error in the log), at the asked k only. Problems
that share (n, c) share a row, so 10^4 problems cost no more than their distinct counts.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from monkeys.errors import MonkeysError


def _unique_pairs(n: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    pairs = np.stack([np.asarray(n, dtype=np.int64), np.asarray(c, dtype=np.int64)], axis=1)
    uniq, inverse, counts = np.unique(pairs, axis=0, return_inverse=True, return_counts=True)
    return uniq, inverse.reshape(-1), counts


def _log_fail_unique(n: np.ndarray, c: np.ndarray, ks: np.ndarray) -> np.ndarray:
    """log(C(n-c,k)/C(n,k)) for distinct (n, c) rows at each k: -inf where k > n-c, nan where k > n.

    The product of factors (n-c-i)/(n-i), i < k, is (n-c)! (n-k)! / ((n-c-k)! n!): four entries of a table
    of log m! (cumulative sums of log m in extended precision, so that their difference keeps ~1e-14 of the
    ~1e5 they reach), read at the asked k only instead of summing every factor up to the largest k."""
    n = np.asarray(n, dtype=np.int64)[:, None]
    c = np.asarray(c, dtype=np.int64)[:, None]
    k = np.asarray(ks, dtype=np.int64)[None, :]
    log_fact = _log_factorials(int(n.max()))
    free = n - c - k  # failures left after drawing k samples: < 0 means every draw of k holds a success
    with np.errstate(invalid="ignore"):
        out = (
            (log_fact[n - c] - log_fact[np.maximum(free, 0)])
            - (log_fact[n] - log_fact[np.clip(n - k, 0, None)])
        ).astype(np.float64)
    out[free < 0] = -np.inf
    out[k > n] = np.nan
    return out


_LOG_FACT: list[np.ndarray] = []


def _log_factorials(m: int) -> np.ndarray:
    """log j! for j = 0..m (at least), in numpy's extended precision, cached."""
    if not _LOG_FACT or len(_LOG_FACT[0]) <= m:
        size = max(m + 1, 2 * len(_LOG_FACT[0]) if _LOG_FACT else 0, 1024)
        table = np.zeros(size, dtype=np.longdouble)
        table[1:] = np.cumsum(np.log(np.arange(1, size, dtype=np.longdouble)))
        _LOG_FACT[:] = [table]
    return _LOG_FACT[0]


def pass_at_k(
    n: Sequence[int] | np.ndarray, c: Sequence[int] | np.ndarray, ks: Sequence[int] | np.ndarray
) -> np.ndarray:
    """Per-problem unbiased pass@k, shape (problems, len(ks)); nan where k exceeds a problem's n."""
    ks = _check_ks(ks)
    uniq, inverse, _ = _unique_pairs(np.asarray(n), np.asarray(c))
    return (-np.expm1(_log_fail_unique(uniq[:, 0], uniq[:, 1], ks)))[inverse]


def coverage(n: np.ndarray, c: np.ndarray, ks: Sequence[int] | np.ndarray) -> np.ndarray:
    """Mean pass@k over problems at each k (the coverage curve); k must not exceed any problem's n."""
    ks = _check_ks(ks)
    if ks.max() > np.min(n):
        raise MonkeysError(
            f"k={int(ks.max())} exceeds the {int(np.min(n))} samples some problem has; use k <= n"
        )
    uniq, _, counts = _unique_pairs(n, c)
    pm = -np.expm1(_log_fail_unique(uniq[:, 0], uniq[:, 1], ks))
    return counts @ pm / counts.sum()


def bootstrap_coverage(
    n: np.ndarray, c: np.ndarray, ks: Sequence[int] | np.ndarray, reps: int, rng: np.random.Generator
) -> np.ndarray:
    """Coverage curves of `reps` resamples of the problems (with replacement), shape (reps, len(ks)).

    Resampling problems carries both sources of error: which problems were drawn and the finite samples
    behind each problem's estimate (the per-problem estimates are independent given the problems)."""
    ks = _check_ks(ks)
    uniq, _, counts = _unique_pairs(n, c)
    pm = -np.expm1(_log_fail_unique(uniq[:, 0], uniq[:, 1], ks))
    total = int(counts.sum())
    weights = rng.multinomial(total, counts / total, size=reps).astype(np.float64)
    return weights @ pm / total


class CoverageTable:
    """Per-(n, c) pass@k at a fixed set of k, computed once, so that every curve, bootstrap and fit error of
    a config reads the same table instead of recomputing the cumulative products."""

    def __init__(self, n: np.ndarray, c: np.ndarray, ks: Sequence[int] | np.ndarray) -> None:
        self.ks = np.unique(_check_ks(ks))
        if self.ks.max() > np.min(n):
            raise MonkeysError(
                f"k={int(self.ks.max())} exceeds the {int(np.min(n))} samples some problem has; use k <= n"
            )
        uniq, _, counts = _unique_pairs(n, c)
        self.log_fail = _log_fail_unique(uniq[:, 0], uniq[:, 1], self.ks)  # (U, K)
        self.pm = -np.expm1(self.log_fail)
        self.counts = counts
        self.total = int(counts.sum())

    def _cols(self, ks: Sequence[int] | np.ndarray) -> np.ndarray:
        ks = np.asarray(ks, dtype=np.int64)
        j = np.searchsorted(self.ks, ks)
        if np.any(j >= len(self.ks)) or np.any(self.ks[np.minimum(j, len(self.ks) - 1)] != ks):
            raise ValueError("k outside the table")  # a programming error, not a user's
        return j

    def coverage(self, ks: Sequence[int] | np.ndarray) -> np.ndarray:
        return self.counts @ self.pm[:, self._cols(ks)] / self.total

    def neg_log_coverage(
        self, ks: Sequence[int] | np.ndarray, weights: np.ndarray | None = None
    ) -> np.ndarray:
        """-log c from the mean failure probability F = mean C(n-c,k)/C(n,k), as -log1p(-F): exact where c is
        within 1e-10 of 1, where 1 - c would have lost every digit. `weights` as in `bootstrap`."""
        fail = np.exp(self.log_fail[:, self._cols(ks)])
        mean = (self.counts @ fail if weights is None else weights @ fail) / self.total
        with np.errstate(divide="ignore"):
            return -np.log1p(-mean)  # inf where coverage is 0

    def coverage_se(self, ks: Sequence[int] | np.ndarray) -> np.ndarray:
        """Standard error of the coverage estimate over problems (sd of per-problem pass@k / sqrt(N)); it
        carries both the choice of problems and each problem's finite samples. nan for one problem."""
        pm = self.pm[:, self._cols(ks)]
        mean = self.counts @ pm / self.total
        if self.total < 2:
            return np.full(pm.shape[1], np.nan)
        var = self.counts @ (pm - mean) ** 2 / (self.total - 1)
        return np.sqrt(var / self.total)

    def resample_weights(self, reps: int, rng: np.random.Generator) -> np.ndarray:
        """Multinomial counts of each distinct (n, c) row in `reps` resamples of the problems."""
        return rng.multinomial(self.total, self.counts / self.total, size=reps).astype(np.float64)

    def bootstrap(self, ks: Sequence[int] | np.ndarray, weights: np.ndarray) -> np.ndarray:
        """Coverage curves of the resamples given by `weights` (from `resample_weights`), (reps, len(ks))."""
        return weights @ self.pm[:, self._cols(ks)] / self.total


def interval(draws: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval over the first axis (linear interpolation), ignoring nan draws."""
    tail = (1 - level) / 2 * 100
    draws = np.asarray(draws, dtype=np.float64)
    if draws.ndim and len(draws) and not np.isnan(draws).any():
        lo, hi = np.percentile(draws, [tail, 100 - tail], axis=0)  # the same numbers, 20x faster
        return lo, hi
    with np.errstate(invalid="ignore"):
        lo, hi = np.nanpercentile(draws, [tail, 100 - tail], axis=0)
    return lo, hi


def report_ks(n: int) -> list[int]:
    """1, 2, 5, 10, 20, 50, ... up to n, and n itself."""
    ks: list[int] = []
    base = 1
    while base <= n:
        ks.extend(k for k in (base, 2 * base, 5 * base) if k <= n)
        base *= 10
    if ks[-1] != n:
        ks.append(n)
    return ks


def log_spaced_ks(n: int, num: int) -> np.ndarray:
    """round(geomspace(1, n, num)); repeats after rounding are kept so the points stay evenly spaced in log k."""
    return np.clip(np.round(np.geomspace(1, n, num)).astype(np.int64), 1, n)


def curve_ks(n: int, max_points: int = 400) -> np.ndarray:
    """Every k up to n when that is few, else distinct log-spaced k plus the report points (for CSV/plots)."""
    if n <= max_points:
        return np.arange(1, n + 1)
    return np.unique(
        np.concatenate([np.round(np.geomspace(1, n, max_points)).astype(np.int64), report_ks(n)])
    )


def per_subject(
    n: np.ndarray, c: np.ndarray, subjects: np.ndarray, ks: Sequence[int]
) -> dict[str, dict[str, object]]:
    """Coverage at `ks` within each subject."""
    out: dict[str, dict[str, object]] = {}
    for s in sorted(set(subjects.tolist())):
        m = subjects == s
        cov = coverage(n[m], c[m], ks)
        out[s or "(none)"] = {
            "problems": int(m.sum()),
            "coverage": {str(k): float(v) for k, v in zip(ks, cov, strict=True)},
        }
    return out


def _check_ks(ks: Sequence[int] | np.ndarray) -> np.ndarray:
    arr = np.atleast_1d(np.asarray(ks))
    if arr.size == 0:
        raise MonkeysError("no k to evaluate; pass at least one k >= 1")
    if not np.issubdtype(arr.dtype, np.integer):
        if not np.all(arr == np.round(arr)):
            raise MonkeysError("k must be a whole number of samples")
        arr = arr.astype(np.int64)
    if arr.min() < 1:
        raise MonkeysError(f"k={int(arr.min())} is not a number of samples; use k >= 1")
    return arr.astype(np.int64)
