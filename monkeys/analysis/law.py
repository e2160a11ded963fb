"""What every fitted coverage law shares: the `Fit` record and the log(-log c) line fit.

Its own module so that the curve laws (`fits`) and the distributional models (`distributional`) both build
on it without importing each other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from monkeys.analysis.coverage import interval

FIT_POINTS = 40


@dataclass
class Fit:
    """One fitted law: point parameters, parameter draws for intervals, and how well it matches the data."""

    method: str
    names: tuple[str, ...]
    theta: np.ndarray  # point estimate, shape (p,)
    curve: Callable[[np.ndarray, np.ndarray], np.ndarray]  # (thetas (R, p), ks (K,)) -> coverage (R, K)
    draws: np.ndarray | None = None  # (R, p) parameter draws behind every interval
    uncertainty: str = "none"
    err_mean: float = float("nan")
    err_std: float = float("nan")
    degenerate: str | None = None
    poor_fit: str | None = None  # the law misses the measured curve somewhere in the window (see POOR_FIT)
    err_max: float = float("nan")
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def predict(self, ks: np.ndarray | list[int]) -> np.ndarray:
        ks = np.atleast_1d(np.asarray(ks, dtype=np.float64))
        if self.degenerate:
            return np.full(ks.shape, np.nan)
        return self.curve(self.theta[None, :], ks)[0]

    def predict_interval(
        self, ks: np.ndarray | list[int], level: float = 0.95
    ) -> tuple[np.ndarray, np.ndarray]:
        ks = np.atleast_1d(np.asarray(ks, dtype=np.float64))
        if self.degenerate or self.draws is None or len(self.draws) < 2:
            return np.full(ks.shape, np.nan), np.full(ks.shape, np.nan)
        return interval(self.curve(self.draws, ks), level)

    def summary(self, level: float = 0.95) -> dict[str, Any]:
        """The fit as its JSON record (see `results.LawFit`)."""
        from monkeys.analysis.results import LawFit

        return LawFit.of(self, level).to_json()


def loglog_lines(
    neg_log: np.ndarray, ks: np.ndarray, weights: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted least squares of log(-log c) on log k for each row of `neg_log` (R, m) = -log c, skipping
    points where -log c is 0 (c = 1) or infinite (c = 0). Returns (R, 2) of (A, B) and the points used."""
    x = np.log(ks.astype(np.float64))[None, :]
    valid = (neg_log > 0) & np.isfinite(neg_log)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(valid, np.log(np.where(valid, neg_log, 1.0)), 0.0)
    w = valid * (1.0 if weights is None else weights[None, :])
    sw = w.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        mx = (w * x).sum(axis=1) / sw
        mz = (w * z).sum(axis=1) / sw
        sxx = (w * (x - mx[:, None]) ** 2).sum(axis=1)
        slope = (w * (x - mx[:, None]) * (z - mz[:, None])).sum(axis=1) / sxx
    intercept = mz - slope * mx
    distinct = np.array([len(set(ks[row].tolist())) for row in valid])
    good = (distinct >= 2) & (sxx > 0)
    out = np.stack([np.exp(intercept), -slope], axis=1)
    out[~good] = np.nan
    return out, distinct


__all__ = ["FIT_POINTS", "Fit", "loglog_lines"]
