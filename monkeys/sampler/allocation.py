"""Which unsolved problem gets the next chunk of a `solve` run: a small policy seam with a registry.

A policy sees each candidate problem's counts (samples read, passes) and names the one to sample next.
Candidates are problems that are not finished, have no chunk in flight and are below the cap.

* `round-robin`: the candidate with the fewest samples issued (ties: problem order). Every unsolved
  problem gets an equal share of the budget.
* `beta-binomial` (default): empirical Bayes. Each problem's pass rate p is assumed drawn from a Beta(a, b)
  prior shared by the problems of its stratum (a task field such as MATH's `level`, or one stratum for
  all), with samples i.i.d. given p. (a, b) are fitted by maximum marginal likelihood of the beta-binomial
  over the counts seen so far; adaptive sampling leaves that likelihood unchanged, since the decision to
  draw a sample depends only on earlier samples (the likelihood principle). The candidate with the
  highest posterior chance that its next sample passes, (a + s) / (a + b + n), goes next.

What this buys, stated honestly: with one stratum and `--successes 1`, every candidate has s = 0 and the
score falls with n alone, so the policy orders problems exactly as round-robin does (and breadth-first is
then optimal, because a beta mixture's hazard of a first pass decreases with failures). It beats
round-robin when strata separate easy from hard problems (fresh easy problems go first), and for m > 1,
where a problem that already passed is a far better bet than one that never did.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from scipy.optimize import minimize
from scipy.special import betaln

from monkeys.registry import Registry


@dataclass(frozen=True)
class Arm:
    """What a policy may look at for one candidate problem."""

    index: int  # position in the run's problem order
    n: int  # samples verified, read in index order
    s: int  # passes among them
    issued: int  # samples issued so far (verified or not)
    stratum: str = ""


class Policy(Protocol):
    """Chooses the next problem to sample among `arms` (all candidates, never empty)."""

    name: str

    def choose(self, arms: Sequence[Arm], everyone: Sequence[Arm]) -> int:
        """The position in `arms` of the problem to sample next. `everyone` holds every problem's counts
        (solved ones too), for policies that learn from the whole run."""
        ...


POLICIES: Registry[Policy] = Registry("allocation policy")


@POLICIES.register("round-robin")
class RoundRobin:
    name = "round-robin"

    def choose(self, arms: Sequence[Arm], everyone: Sequence[Arm]) -> int:
        return min(range(len(arms)), key=lambda i: (arms[i].issued, arms[i].index))


def fit_beta_binomial(n: np.ndarray, s: np.ndarray) -> tuple[float, float]:
    """Maximum marginal-likelihood Beta(a, b) for counts (n, s); a weak Gamma(1.01, 0.01)-style penalty on
    log a, log b keeps the fit finite when every count is 0 or every count is n."""
    n = np.asarray(n, dtype=np.float64)
    s = np.asarray(s, dtype=np.float64)
    keep = n > 0
    n, s = n[keep], s[keep]
    if len(n) == 0:
        return 1.0, 1.0

    pairs, weight = np.unique(np.stack([n, s], axis=1), axis=0, return_counts=True)
    n, s = pairs[:, 0], pairs[:, 1]

    def nll(theta: np.ndarray) -> float:
        a, b = np.exp(np.clip(theta, -9.0, 9.0))
        ll = weight @ (betaln(a + s, b + n - s) - betaln(a, b))
        return float(-ll + 0.01 * (a + b) - 0.01 * (theta[0] + theta[1]))

    res = minimize(nll, np.zeros(2), method="Nelder-Mead", options={"xatol": 1e-3, "fatol": 1e-6})
    a, b = np.exp(np.clip(res.x, -9.0, 9.0))
    return float(a), float(b)


@POLICIES.register("beta-binomial")
class BetaBinomial:
    """Empirical-Bayes choice by posterior chance of a pass on the next sample (see the module docstring).
    The prior is refitted every `refit` choices; strata with fewer than `min_stratum` problems that have
    samples use the prior fitted over all problems."""

    name = "beta-binomial"

    def __init__(self, refit: int = 64, min_stratum: int = 8) -> None:
        self.refit = refit
        self.min_stratum = min_stratum
        self._calls = 0
        self._priors: dict[str, tuple[float, float]] = {}

    def _fit(self, everyone: Sequence[Arm]) -> None:
        n = np.array([a.n for a in everyone])
        s = np.array([a.s for a in everyone])
        strata = np.array([a.stratum for a in everyone])
        overall = fit_beta_binomial(n, s)
        self._priors = {"": overall}
        for name in set(strata.tolist()):
            sel = (strata == name) & (n > 0)
            self._priors[name] = (
                fit_beta_binomial(n[sel], s[sel]) if sel.sum() >= self.min_stratum else overall
            )

    def score(self, arm: Arm) -> float:
        a, b = self._priors.get(arm.stratum, self._priors[""])
        return (a + arm.s) / (a + b + arm.n)

    def choose(self, arms: Sequence[Arm], everyone: Sequence[Arm]) -> int:
        if self._calls % self.refit == 0:
            self._fit(everyone)
        self._calls += 1
        return max(range(len(arms)), key=lambda i: (self.score(arms[i]), -arms[i].issued, -arms[i].index))


__all__ = ["POLICIES", "Arm", "BetaBinomial", "Policy", "RoundRobin", "fit_beta_binomial"]
