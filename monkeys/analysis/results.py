"""What `fit-scaling` and `select` return: frozen records, from which the CLI renders its text and every
`--json` document is derived (`to_json`, whose keys and their order are the JSON contract).

Numbers are plain floats; nan stands for "not defined" in memory and becomes null in the files.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from monkeys.analysis.law import Fit


def _curve(points: tuple[tuple[int, float | None], ...]) -> dict[str, float | None]:
    return {str(k): v for k, v in points}


# -- fit-scaling ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LawFit:
    """One fitted coverage law: its parameters (with bootstrap sd and interval where drawn), its fit errors
    on the measured curve, and why it is degenerate or a poor fit when it is."""

    method: str
    params: tuple[tuple[str, float | None], ...]
    spread: tuple[tuple[str, float, tuple[float, float]], ...]  # (name, sd, interval) per parameter
    uncertainty: str
    err_mean: float
    err_std: float
    err_max: float
    degenerate: str | None = None
    poor_fit: str | None = None
    extra: tuple[tuple[str, Any], ...] = ()  # the law's own figures (tail exponent, log-likelihood, ...)
    notes: tuple[str, ...] = ()

    @classmethod
    def of(cls, fit: Fit, level: float = 0.95) -> LawFit:
        from monkeys.analysis.coverage import interval

        params = tuple(
            (name, None if fit.degenerate else float(fit.theta[i])) for i, name in enumerate(fit.names)
        )
        spread: tuple[tuple[str, float, tuple[float, float]], ...] = ()
        if fit.draws is not None and not fit.degenerate and len(fit.draws) > 1:
            lo, hi = interval(fit.draws, level)
            sd = np.nanstd(fit.draws, axis=0, ddof=1)
            spread = tuple(
                (name, float(sd[i]), (float(lo[i]), float(hi[i]))) for i, name in enumerate(fit.names)
            )
        return cls(
            fit.method,
            params,
            spread,
            fit.uncertainty,
            fit.err_mean,
            fit.err_std,
            fit.err_max,
            fit.degenerate,
            fit.poor_fit,
            tuple(fit.extra.items()),
            tuple(fit.notes),
        )

    def param(self, name: str) -> float | None:
        """A parameter's point estimate; None when the law has no such parameter or was not fitted."""
        return dict(self.params).get(name)

    def figure(self, name: str) -> Any:
        """One of the law's own figures (`tail_exponent`, `window_exponent`, ...), or None."""
        return dict(self.extra).get(name)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"method": self.method}
        if self.degenerate:
            out["degenerate"] = self.degenerate
        out.update(self.params)
        for name, sd, (lo, hi) in self.spread:
            out[f"{name}_std"] = sd
            out[f"{name}_ci"] = [lo, hi]
        out["uncertainty"] = self.uncertainty
        out["err_mean"] = self.err_mean
        out["err_std"] = self.err_std
        out["err_max"] = self.err_max
        if self.poor_fit:
            out["poor_fit"] = self.poor_fit
        out.update(self.extra)
        if self.notes:
            out["notes"] = list(self.notes)
        return out


@dataclass(frozen=True)
class Prediction:
    """Coverage at one k with its interval; `model` names the law behind it, `how` how it was widened."""

    coverage: float | None
    low: float | None
    high: float | None
    model: str | None = None
    degenerate: str | None = None
    poor_fit: str | None = None
    how: str | None = None
    weights: tuple[tuple[str, float], ...] | None = None  # model_average: each law's weight
    sd: tuple[tuple[str, float], ...] | None = None  # model_average: own, disagreement, backtest sd

    def to_json(self, with_model: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {"coverage": self.coverage, "low": self.low, "high": self.high}
        if self.degenerate:
            out["degenerate"] = self.degenerate
        if self.model is not None or with_model:
            out["model"] = self.model
        if self.poor_fit:
            out["poor_fit"] = self.poor_fit
        if self.weights is not None:
            out["weights"] = dict(self.weights)
        if self.sd is not None:
            out["sd"] = dict(self.sd)
        if self.how is not None:
            out["how"] = self.how
        return out


@dataclass(frozen=True)
class BacktestMethod:
    predicted_mean: float | None
    abs_err_mean: float | None
    abs_err_max: float | None
    failed_fits: int
    predictions: tuple[float | None, ...] = ()  # one per back-test subsample (None: the fit failed)

    def to_json(self) -> dict[str, Any]:
        return {
            "predicted_mean": self.predicted_mean,
            "abs_err_mean": self.abs_err_mean,
            "abs_err_max": self.abs_err_max,
            "failed_fits": self.failed_fits,
            "predictions": list(self.predictions),
        }


@dataclass(frozen=True)
class Backtest:
    """Each method fitted on `fit_samples` per problem, predicting coverage at `target_k` (truth measured)."""

    fit_samples: int
    target_k: int
    truth: float
    repeats: int
    methods: tuple[tuple[str, BacktestMethod], ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "fit_samples": self.fit_samples,
            "target_k": self.target_k,
            "truth": self.truth,
            "repeats": self.repeats,
            "methods": {m: v.to_json() for m, v in self.methods},
        }


@dataclass(frozen=True)
class Extrapolation:
    """Coverage at `k` from every law, their back-test-weighted `model_average`, and the recommendation (the
    model average beyond the samples drawn, the measured coverage within; `interval` is its interval) and why."""

    k: int
    level: float
    predictions: tuple[tuple[str, Prediction], ...]
    recommended: str | None
    reason: str
    empirical: Prediction | None = None
    backtest: Backtest | None = None
    model_average: Prediction | None = None
    interval: Prediction | None = None

    def prediction(self, name: str) -> Prediction | None:
        """A law's prediction, the measured coverage for "empirical", or the "model_average"."""
        if name == "empirical":
            return self.empirical
        if name == "model_average":
            return self.model_average
        return dict(self.predictions).get(name)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"k": self.k, "level": self.level}
        for name, p in self.predictions:
            out[name] = p.to_json(with_model=name == "distributional")
        if self.empirical is not None:
            out["empirical"] = self.empirical.to_json()
        if self.backtest is not None:
            out["backtest"] = self.backtest.to_json()
        if self.model_average is not None:
            out["model_average"] = self.model_average.to_json()
        out["recommended"] = self.recommended
        if self.interval is not None:
            out["interval"] = self.interval.to_json()
        out["reason"] = self.reason
        return out


@dataclass(frozen=True)
class SubjectCoverage:
    problems: int
    coverage: tuple[tuple[int, float], ...]


@dataclass(frozen=True)
class ProblemCount:
    problem: str
    num_samples: int
    num_correct: int

    @property
    def pass_at_1(self) -> float:
        return self.num_correct / self.num_samples


@dataclass(frozen=True)
class ConfigFit:
    """Everything `fit-scaling` reports for one config (one run, or one config of an outcomes table)."""

    problems: int
    samples_per_problem: int
    solved_fraction: float
    mean_pass_at_1: float
    coverage: tuple[tuple[int, float], ...]  # at the report k
    coverage_ci: tuple[tuple[int, tuple[float | None, float | None]], ...]
    ci: str | None
    fits: tuple[tuple[str, LawFit], ...]  # power_law, neg_log_power_law, distributional, both candidates
    distributional_model: str | None  # which candidate `distributional` is
    chosen_by: str
    per_problem: tuple[ProblemCount, ...]
    degenerate: str | None = None
    notes: tuple[str, ...] = ()
    extrapolation: Extrapolation | None = None
    per_subject: tuple[tuple[str, SubjectCoverage], ...] | None = None

    def fit(self, name: str) -> LawFit:
        return dict(self.fits)[name]

    def coverage_at(self, k: int) -> float:
        return dict(self.coverage)[k]

    def to_json(self) -> dict[str, Any]:
        fits = {}
        for name, law in self.fits:
            fits[name] = law.to_json()
        fits["distributional"]["model"] = self.distributional_model
        fits["distributional"]["chosen_by"] = self.chosen_by
        out: dict[str, Any] = {
            "problems": self.problems,
            "samples_per_problem": self.samples_per_problem,
            "solved_fraction": self.solved_fraction,
            "mean_pass@1": self.mean_pass_at_1,
            "coverage": _curve(self.coverage),
            "coverage_ci": {str(k): list(v) for k, v in self.coverage_ci},
            "ci": self.ci,
            "fits": fits,
        }
        if self.degenerate:
            out["degenerate"] = self.degenerate
        if self.notes:
            out["notes"] = list(self.notes)
        if self.extrapolation is not None:
            out["extrapolation"] = self.extrapolation.to_json()
        if self.per_subject is not None:
            out["per_subject"] = {
                s: {"problems": v.problems, "coverage": _curve(v.coverage)} for s, v in self.per_subject
            }
        out["per_problem"] = [
            {
                "problem": p.problem,
                "num_samples": p.num_samples,
                "num_correct": p.num_correct,
                "pass@1": p.pass_at_1,
            }
            for p in self.per_problem
        ]
        return out


@dataclass(frozen=True)
class ScalingResult:
    """`monkeys fit-scaling`: one ConfigFit per config, and how they were made."""

    source: str
    seed: int
    bootstrap: int
    level: float
    configs: tuple[tuple[str, ConfigFit], ...]

    def config(self, name: str) -> ConfigFit:
        return dict(self.configs)[name]

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "seed": self.seed,
            "bootstrap": self.bootstrap,
            "level": self.level,
            "configs": {name: c.to_json() for name, c in self.configs},
        }


# -- select -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MethodCurve:
    """One selection method against k: exact over all subsets where a closed form exists, and the mean and
    sd over random subsets (the paper's protocol)."""

    all_subsets: tuple[tuple[int, float | None], ...] | None
    all_subsets_estimator: str
    subsets_mean: tuple[tuple[int, float | None], ...]
    subsets_std: tuple[tuple[int, float | None], ...]
    plateau_k: int
    plateau_rule: str
    gap: tuple[tuple[int, float | None], ...]  # coverage minus the method, at the report k

    def best(self, k: int) -> float | None:
        """The all-subsets value where exact, else the random-subsets mean."""
        return dict(self.all_subsets or self.subsets_mean)[k]

    def to_json(self) -> dict[str, Any]:
        return {
            "all_subsets": None if self.all_subsets is None else _curve(self.all_subsets),
            "all_subsets_estimator": self.all_subsets_estimator,
            "subsets_mean": _curve(self.subsets_mean),
            "subsets_std": _curve(self.subsets_std),
            "plateau_k": self.plateau_k,
            "plateau_rule": self.plateau_rule,
        }


@dataclass(frozen=True)
class Skipped:
    """A selection method that could not run, and why."""

    skipped: str


@dataclass(frozen=True)
class ScorerQuality:
    """A stored score used as a verifier: how well it separates right from wrong samples."""

    samples: int
    auroc: float | None
    auroc_within: float | None
    problems_mixed: int
    top1_precision: float | None


@dataclass(frozen=True)
class SelectionResult:
    """`monkeys select`: coverage and each selection method at every report k, with the gaps between."""

    run: str
    verifier: str
    grouping: str
    scorers: tuple[str, ...]
    problems: int
    samples_per_problem: int
    subsets: int
    seed: int
    coverage: tuple[tuple[int, float | None], ...]
    methods: tuple[tuple[str, MethodCurve | Skipped], ...]
    coverage_plateau_k: int
    scorers_left_out: Mapping[str, str] | None = None
    scorers_as_verifiers: tuple[tuple[str, ScorerQuality], ...] | None = None  # None: not asked for

    def curves(self) -> tuple[tuple[str, MethodCurve], ...]:
        """The methods that ran."""
        return tuple((m, c) for m, c in self.methods if isinstance(c, MethodCurve))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"run": self.run, "verifier": self.verifier, "grouping": self.grouping}
        out["scorers"] = list(self.scorers)
        if self.scorers_left_out is not None:
            out["scorers_left_out"] = dict(self.scorers_left_out)
        out.update(
            {
                "problems": self.problems,
                "samples_per_problem": self.samples_per_problem,
                "subsets": self.subsets,
                "seed": self.seed,
                "coverage": _curve(self.coverage),
                "methods": {
                    m: {"skipped": c.skipped} if isinstance(c, Skipped) else c.to_json()
                    for m, c in self.methods
                },
                "gap": {m: _curve(c.gap) for m, c in self.curves()},
                "coverage_plateau_k": self.coverage_plateau_k,
            }
        )
        if self.scorers_as_verifiers is not None:
            out["scorers_as_verifiers"] = {s: dict(vars(q)) for s, q in self.scorers_as_verifiers}
        return out
