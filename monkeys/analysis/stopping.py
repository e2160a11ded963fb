"""Unbiased pass@k and coverage@k from runs that stop each problem early (`monkeys solve`).

Assumptions: a problem's samples are i.i.d. Bernoulli(p) (pass or not) and are read in sample-index order,
every earlier index verified. Three rules stop a problem:

* **m-th pass** (`--successes m`): it stops at sample N, the index (1-based) of its m-th pass, or at the cap
  K with S < m passes. (N, S) is then a sufficient and complete statistic of p, so the unbiased estimate
  below is the minimum-variance one (Lehmann-Scheffé). Of 1 - pass@k = (1 - p)^k it is

      C(N-1-k, m-1) / C(N-1, m-1)     stopped at its m-th pass on sample N (0 when N-1-k < m-1),
      C(K-S, k) / C(K, k)             reached the cap with S < m passes (the full-sampling estimator).

  Why: condition on the first k samples all failing. Stopping on sample N with the m-th pass has
  probability C(N-1, m-1) p^m (1-p)^(N-m); the event "first k fail and the m-th pass on sample N" has
  C(N-1-k, m-1) p^m (1-p)^(N-m), so the ratio is P(first k fail | N, S) - the Rao-Blackwellisation of the
  indicator "the first k samples fail" (which is unbiased for (1-p)^k). The cap case is the same
  conditioning on a fixed-size sample. `tests/test_solve_estimator.py` checks the identity exactly by
  enumeration and by Monte Carlo through the chunked loop.

* **distinct successes** (`--successes m` counting distinct programs or answers): the loop stops at the
  m-th distinct pass, T_d, which may come after T, the m-th pass counting every pass. T is itself a
  stopping time of the pass/fail sequence and T <= T_d (or T does not occur before the cap), so the samples
  0..T-1 are always read and the estimate above evaluated at T, ignoring the samples after it, is unbiased
  exactly as for `--all-passes`. (At T_d it would not be: whether a pass is distinct depends on which
  program it is, so T_d is not a function of the passes alone.) `read_in_order` reads to T; the
  simulation in tests/test_solve_estimator.py checks both claims.

* **overshoot**: chunks are issued before earlier ones are verified, so a problem can hold samples past N.
  Their count depends on N and on timing, and N is a stopping time, so pooling them with the first N
  (e.g. the full-sampling formula on all of them) is biased. The estimate uses samples 0..N-1 only; the
  rest are stored and verified (`verify`, `select` and `cost` see them) but not counted here.

* **budget cut** (`--budget`): a problem the budget leaves with n < cap samples and S < m passes gets the
  full-sampling formula on its n samples, for k <= n. With m = 1 this is unbiased: while a problem runs all
  its samples failed, so the allocation could use its own data only through n, i.e. it was cut at a time
  fixed by the other problems, and E = sum_{j<=T} p(1-p)^(j-1) [j > k] + (1-p)^T = (1-p)^k for k <= T.
  With m > 1 the beta-binomial policy also looks at the problem's own passes, so cut rows may carry a small
  bias; `solve` says so in its summary.

* **majority stop** (`--stop majority`): the stop depends on the answers, hence on the passes, so neither
  formula above applies. Every problem draws at least `min_samples` samples before the rule may stop it,
  a fixed number: the full-sampling formula on those first `min_samples` samples is unbiased for k up to it,
  and that is what `stopped_counts(..., rule="majority")` returns. The rule's own accuracy (the stopped vote
  graded by the verifier) is one draw per problem of the procedure, so its mean over problems is unbiased
  for the procedure's accuracy on this problem population.

Coverage@k is the mean over problems; intervals resample problems, as for full runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln

from monkeys.errors import MonkeysError


@dataclass(frozen=True)
class Stops:
    """Per problem: samples read in index order (n), passes among them (s), and whether it stopped on its
    m-th pass (True) or at the cap (False). `m` is the success target, `cap` the max per problem."""

    problems: np.ndarray
    n: np.ndarray
    s: np.ndarray
    stopped: np.ndarray
    m: int
    cap: int


def _log_comb(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """log C(a, b) elementwise; -inf where b < 0 or b > a (a and b may be arrays of any broadcastable shape)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    ok = (b >= 0) & (a >= b)
    with np.errstate(invalid="ignore"):
        out = (
            gammaln(np.maximum(a, 0) + 1) - gammaln(np.maximum(b, 0) + 1) - gammaln(np.maximum(a - b, 0) + 1)
        )
    return np.where(ok, out, -np.inf)


def fail_at_k(
    n: np.ndarray, s: np.ndarray, stopped: np.ndarray, m: int, ks: Sequence[int] | np.ndarray
) -> np.ndarray:
    """Per-problem unbiased estimate of (1 - p)^k, shape (problems, len(ks)).

    Stopped rows use C(n-1-k, m-1)/C(n-1, m-1); the others C(n-s, k)/C(n, k) (nan where k > n)."""
    n = np.asarray(n, dtype=np.int64)[:, None]
    s = np.asarray(s, dtype=np.int64)[:, None]
    stopped = np.asarray(stopped, dtype=bool)[:, None]
    k = np.asarray(ks, dtype=np.int64)[None, :]
    if np.any(k < 1):
        raise MonkeysError("k must be at least 1")
    with np.errstate(invalid="ignore"):  # -inf - -inf where the row's other formula applies
        stop_est = np.exp(_log_comb(n - 1 - k, m - 1) - _log_comb(n - 1, m - 1))
        cap_est = np.exp(_log_comb(n - s, k) - _log_comb(n, k))
    cap_est = np.where(k > n, np.nan, cap_est)
    return np.where(stopped, stop_est, cap_est)


def max_k(stops: Stops) -> int:
    """Largest k with an estimate for every problem: the cap, or the fewest samples of a problem that
    neither passed m times nor reached the cap (cut short by the budget or an interrupted run)."""
    short = stops.n[~stops.stopped]
    return int(min(stops.cap, short.min())) if len(short) else stops.cap


def stop_coverage(stops: Stops, ks: Sequence[int] | np.ndarray) -> np.ndarray:
    """Coverage@k (mean over problems of the unbiased pass@k); k must not exceed `max_k(stops)`."""
    ks = np.asarray(ks, dtype=np.int64)
    if ks.max() > max_k(stops):
        raise MonkeysError(
            f"k={int(ks.max())} exceeds the {max_k(stops)} samples every unstopped problem has; use a smaller k"
        )
    return 1.0 - fail_at_k(stops.n, stops.s, stops.stopped, stops.m, ks).mean(axis=0)


def bootstrap_stop_coverage(
    stops: Stops, ks: Sequence[int] | np.ndarray, reps: int, rng: np.random.Generator
) -> np.ndarray:
    """Coverage curves of `reps` resamples of the problems, shape (reps, len(ks))."""
    pm = 1.0 - fail_at_k(stops.n, stops.s, stops.stopped, stops.m, ks)
    p = len(stops.n)
    weights = rng.multinomial(p, np.full(p, 1.0 / p), size=reps).astype(np.float64)
    return weights @ pm / p


def read_in_order(indices: np.ndarray, passed: np.ndarray, m: int, cap: int) -> tuple[int, int, bool]:
    """(n, s, stopped) of one problem from its verified samples: read in index order from 0 until the m-th
    pass or a gap (an index not yet verified) or the cap. Samples past the stop are ignored (see above)."""
    order = np.argsort(indices, kind="stable")
    idx = np.asarray(indices)[order]
    ok = np.asarray(passed, dtype=bool)[order]
    limit = min(cap, len(idx))
    contiguous = int(np.argmin(np.append(idx[:limit] == np.arange(limit), False)))
    ok = ok[:contiguous]
    cum = np.cumsum(ok)
    hit = np.flatnonzero(cum >= m)
    if len(hit):
        n = int(hit[0]) + 1
        return n, m, True
    return contiguous, int(cum[-1]) if contiguous else 0, False


def min_samples_counts(indices: np.ndarray, passed: np.ndarray, n0: int) -> tuple[int, int]:
    """(n0, passes among samples 0..n0-1): the fixed-size prefix every majority-stopped problem reaches."""
    idx = np.asarray(indices)
    ok = np.asarray(passed, dtype=bool)
    sel = idx < n0
    if int(sel.sum()) < n0:
        raise MonkeysError(f"a problem has fewer than {n0} verified samples in 0..{n0 - 1}; rerun solve")
    return n0, int(ok[sel].sum())
