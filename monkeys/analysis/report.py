"""Assemble the numbers of `fit-scaling` and `select` into their typed results (`results.py`, whose
`to_json` is the JSON contract) and CSV curves."""

from __future__ import annotations

import contextlib
import csv
import json
import math
import os
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from monkeys.analysis.coverage import coverage, curve_ks, interval, per_subject, report_ks
from monkeys.analysis.extrapolate import extrapolate
from monkeys.analysis.fits import DISTRIBUTIONAL, FitSet, fit_all
from monkeys.analysis.outcomes import Counts
from monkeys.analysis.results import (
    ConfigFit,
    LawFit,
    MethodCurve,
    ProblemCount,
    ScalingResult,
    ScorerQuality,
    SelectionResult,
    Skipped,
    SubjectCoverage,
)
from monkeys.errors import MonkeysError

if TYPE_CHECKING:  # pandas costs a fifth of a second to import; fit-scaling builds its table without it
    import pandas as pd

    from monkeys.analysis.selection import Votes

LEVEL = 0.95
CURVE_METHODS = ("power_law", "neg_log_power_law", *DISTRIBUTIONAL)


# -- fit-scaling --------------------------------------------------------------------------------------------
def degenerate_label(counts: Counts) -> str | None:
    if np.all(counts.c == 0):
        return "all-zero: no sample of any problem is correct; coverage is 0 at every k"
    if np.all(counts.c == counts.n):
        return "all-one: every sample of every problem is correct; coverage is 1 at every k"
    if counts.num_problems == 1:
        return "single problem: coverage is that problem's pass@k; no intervals over problems"
    return None


class CurveTable:
    """The curves of `fit-scaling` as named columns (one row per config and k), built without pandas."""

    def __init__(self, columns: dict[str, np.ndarray]) -> None:
        self.columns = columns

    @staticmethod
    def concat(tables: list[CurveTable]) -> CurveTable:
        if not tables:
            return CurveTable({})
        return CurveTable(
            {name: np.concatenate([t.columns[name] for t in tables]) for name in tables[0].columns}
        )

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(self.columns)

    def to_csv(self, path: str | Path) -> None:
        """The CSV pandas' `to_csv(index=False)` writes for the same columns (shortest round-trip floats,
        empty cells for nan, minimal quoting)."""
        cells = []
        for col in self.columns.values():
            text = col.astype(str)
            if col.dtype.kind == "f":
                text[np.isnan(col)] = ""
            cells.append(text.tolist())
        with open(path, "w", newline="") as fh:
            writer = csv.writer(fh, lineterminator=os.linesep)
            writer.writerow(list(self.columns))
            writer.writerows(zip(*cells, strict=True))


def analyse(
    counts: Counts, reps: int, rng: np.random.Generator, extrapolate_k: int | None = None
) -> tuple[ConfigFit, CurveTable, FitSet]:
    """Everything `fit-scaling` reports for one config: its result, its curve rows, and the fits."""
    fs = fit_all(counts, reps, rng)
    n_max = counts.max_k
    ks = curve_ks(n_max)
    cov = fs.table.coverage(ks)
    lo = hi = np.full(len(ks), np.nan)
    if fs.boot_weights is not None:
        lo, hi = interval(fs.table.bootstrap(ks, fs.boot_weights), LEVEL)
    at = {int(k): i for i, k in enumerate(ks)}
    rk = report_ks(n_max)
    subjects = None
    if counts.subjects is not None:
        subjects = tuple(
            (s, SubjectCoverage(v["problems"], tuple((int(k), c) for k, c in v["coverage"].items())))
            for s, v in per_subject(counts.n, counts.c, counts.subjects, rk).items()
        )
    entry = ConfigFit(
        problems=counts.num_problems,
        samples_per_problem=n_max,
        solved_fraction=float(np.mean(counts.c > 0)),
        mean_pass_at_1=float(np.mean(counts.c / counts.n)),
        coverage=tuple((k, float(cov[at[k]])) for k in rk),
        coverage_ci=tuple((k, (_num(lo[at[k]]), _num(hi[at[k]]))) for k in rk),
        ci=f"{LEVEL:.0%} percentile bootstrap over problems ({fs.boot_reps} resamples)"
        if fs.boot_reps
        else None,
        fits=tuple((name, LawFit.of(fit, LEVEL)) for name, fit in fs.methods().items()),
        distributional_model=fs.best_distributional,
        chosen_by="likelihood-ratio test of scaled_beta against the nested beta_binomial (5%, boundary-corrected)",
        per_problem=tuple(
            ProblemCount(str(p), int(n), int(c))
            for p, n, c in zip(counts.problems, counts.n, counts.c, strict=True)
        ),
        degenerate=degenerate_label(counts),
        notes=tuple(counts.notes or ()),
        extrapolation=extrapolate(fs, extrapolate_k, rng, LEVEL) if extrapolate_k else None,
        per_subject=subjects,
    )
    curve_k = ks
    if extrapolate_k and extrapolate_k > n_max:
        curve_k = np.unique(np.r_[ks, np.round(np.geomspace(n_max, extrapolate_k, 30)).astype(np.int64)])
    rows: dict[str, np.ndarray] = {"config": np.full(len(curve_k), counts.name, dtype=object), "k": curve_k}
    j = np.minimum(np.searchsorted(ks, curve_k), len(ks) - 1)
    measured = ks[j] == curve_k  # the extrapolated k beyond n have no measured coverage
    for col, values in (("coverage", cov), ("coverage_low", lo), ("coverage_high", hi)):
        rows[col] = np.where(measured, np.asarray(values, dtype=np.float64)[j], np.nan)
    band_k = _band_ks(curve_k)
    for name in CURVE_METHODS:
        fit = fs.fits[name]
        rows[name] = fit.predict(curve_k)
        low, high = fit.predict_interval(band_k, LEVEL)
        rows[f"{name}_low"], rows[f"{name}_high"] = (
            _interp_log(curve_k, band_k, low),
            _interp_log(curve_k, band_k, high),
        )
    return entry, CurveTable(rows), fs


BAND_POINTS = 60


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run with a single BLAS thread: the fits' matrices are small, and OpenBLAS threads spinning on a busy
    machine made them up to 20x slower. A no-op where threadpoolctl is not installed. The limit reaches the
    BLAS libraries loaded when it is set: numpy's (the fits need no scipy.linalg or scipy.optimize)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(1, user_api="blas"):
        yield


def _band_ks(ks: np.ndarray) -> np.ndarray:
    """The k at which the laws' bands are evaluated (the curve table interpolates between them in log k):
    each band is a percentile over hundreds of parameter draws, smooth in log k, and costly per k."""
    if len(ks) <= BAND_POINTS:
        return ks
    pick = np.unique(np.round(np.geomspace(1, len(ks), BAND_POINTS)).astype(np.int64) - 1)
    return ks[np.unique(np.r_[pick, len(ks) - 1])]


def _interp_log(ks: np.ndarray, at: np.ndarray, values: np.ndarray) -> np.ndarray:
    if len(at) == len(ks):
        return values
    x, xp = np.log(ks), np.log(at)
    missing = np.interp(x, xp, np.isnan(values).astype(np.float64)) > 0
    out = np.interp(x, xp, np.nan_to_num(values))
    out[missing] = np.nan
    return out


def config_rng(seed: int, name: str) -> np.random.Generator:
    """The random stream of one config: from the seed and the config's own name, so that a config's
    bootstrap and back-tests are the same whichever other configs share the call."""
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


def fit_scaling(
    counts_by_config: dict[str, Counts],
    reps: int,
    seed: int,
    extrapolate_k: int | None = None,
    source: str = "",
) -> tuple[ScalingResult, CurveTable, list[FitSet]]:
    if reps < 0:
        raise MonkeysError(f"--bootstrap {reps} is negative; pass 0 (no intervals) or a count such as 200")
    if extrapolate_k is not None and extrapolate_k < 1:
        raise MonkeysError(f"--extrapolate {extrapolate_k} is not a number of samples; pass k >= 1")
    configs, frames, fitsets = [], [], []
    with one_blas_thread():
        for name, counts in counts_by_config.items():
            entry, rows, fs = analyse(counts, reps, config_rng(seed, name), extrapolate_k)
            configs.append((name, entry))
            frames.append(rows)
            fitsets.append(fs)
    result = ScalingResult(source, seed, reps, LEVEL, tuple(configs))
    return result, CurveTable.concat(frames), fitsets


# -- select ---------------------------------------------------------------------------------------------------
def _weights(name: str, scores: np.ndarray) -> np.ndarray | None:
    from monkeys.analysis.votes import MEAN_LOGPROB

    if name == MEAN_LOGPROB:
        return np.exp(scores)  # geometric-mean token probability, in (0, 1]
    return scores if np.all(np.isfinite(scores)) and np.all(scores >= 0) else None


def select(
    votes: list[Votes],
    info: dict[str, Any],
    methods: list[str],
    subsets: int,
    seed: int,
    name: str = "",
    judge_scorers: bool = False,
) -> tuple[SelectionResult, pd.DataFrame]:
    """Coverage and each selection method at every k up to the smallest sample count, with gaps; with
    `judge_scorers`, how well each score separates right from wrong samples on its own."""
    # scipy.stats (behind selection) costs half a second to import; fit-scaling never needs it
    from monkeys.analysis.selection import (
        Votes,
        best_of_k_exact_problem,
        choose_ratio_table,
        majority_all_subsets,
        plateau_k,
        scorer_as_verifier,
        subsets_protocol,
    )

    if subsets < 2:
        raise MonkeysError(f"--subsets {subsets} is too few for a std; use 2 or more (the paper uses 100)")
    rng = np.random.default_rng(seed)
    n = np.array([len(v.labels) for v in votes])
    c = np.array([int(v.correct.sum()) for v in votes])
    k_max = int(n.min())
    all_k = np.arange(1, k_max + 1)
    ks = curve_ks(k_max)
    rk = report_ks(k_max)
    cov = coverage(n, c, all_k)
    curves: dict[str, np.ndarray] = {"coverage": cov}
    results: list[tuple[str, MethodCurve | Skipped]] = []
    scorers = info.get("scorers", [])
    wanted = []
    for m in methods:
        if m == "majority":
            wanted.append(("majority", None))
        elif m in ("best_of_k", "weighted_majority"):
            if not scorers:
                raise MonkeysError(
                    f"--method {m.replace('_', '-')} needs per-sample scores; this run has none "
                    "(no scores table, no logprobs)"
                )
            wanted += [(m, s) for s in scorers]
        else:
            raise MonkeysError(f"unknown method {m!r}; choose majority, best-of-k, weighted or all")
    for method, score in wanted:
        key = method if score is None else f"{method}[{score}]"
        skipped = None
        local = votes
        if method == "weighted_majority":
            local = []
            for v in votes:
                w = _weights(score, v.scores[score])
                if w is None:
                    skipped = Skipped(f"scores of {score} are not all >= 0; they cannot weight votes")
                    break
                local.append(Votes(v.problem, v.labels, v.correct, {score: w}))
            if skipped is not None:
                results.append((key, skipped))
                continue
        sub = subsets_protocol(
            local, k_max, method if method != "weighted_majority" else "weighted", score, subsets, rng
        )
        mean, std = sub.mean(axis=0), sub.std(axis=0, ddof=1)
        if method == "majority":
            exact, how = majority_all_subsets(votes, k_max, rng)
        elif method == "best_of_k":
            tables: dict[int, np.ndarray] = {}
            for size in {len(v.labels) for v in votes}:
                tables[size] = choose_ratio_table(size, all_k)
            exact = np.mean(
                [
                    best_of_k_exact_problem(v.scores[score], v.correct, all_k, tables[len(v.labels)])
                    for v in votes
                ],
                axis=0,
            )
            how = "exact over all subsets"
        else:
            exact, how = None, "no exact form; see subsets_mean (unbiased for the all-subsets mean)"
        best = exact if exact is not None else mean
        curve = MethodCurve(
            all_subsets=_points(exact, rk) if exact is not None else None,
            all_subsets_estimator=how,
            subsets_mean=_points(mean, rk),
            subsets_std=_points(std, rk),
            plateau_k=plateau_k(best, all_k),
            plateau_rule="smallest k from which the curve stays within 0.01 of its value at the largest k",
            gap=_points(cov - best, rk),
        )
        results.append((key, curve))
        curves[key] = best
        curves[f"{key}_subsets_mean"] = mean
        curves[f"{key}_subsets_std"] = std
    judged = None
    if judge_scorers:
        judged = tuple((s, ScorerQuality(**scorer_as_verifier(votes, s))) for s in scorers)
    result = SelectionResult(
        run=name,
        verifier=info["verifier"],
        grouping=info["grouping"],
        scorers=tuple(scorers),
        problems=len(votes),
        samples_per_problem=k_max,
        subsets=subsets,
        seed=seed,
        coverage=_points(cov, rk),
        methods=tuple(results),
        coverage_plateau_k=plateau_k(cov, all_k),
        scorers_left_out=info.get("scorers_left_out"),
        scorers_as_verifiers=judged,
    )
    import pandas as pd

    table = pd.DataFrame({"k": ks, **{k: v[ks - 1] for k, v in curves.items()}})
    return result, table


# -- files ----------------------------------------------------------------------------------------------------
def _num(x: float | None) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _points(curve: np.ndarray, ks: list[int]) -> tuple[tuple[int, float | None], ...]:
    return tuple((k, _num(curve[k - 1])) for k in ks)


def _clean(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, (np.floating, float)):
        return _num(float(obj))
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


def write_json(path: str | Path, doc: dict[str, Any]) -> None:
    """Write strict JSON (nan and inf become null)."""
    try:
        Path(path).write_text(json.dumps(_clean(doc), indent=2, allow_nan=False) + "\n")
    except OSError as exc:
        raise MonkeysError(f"cannot write {path}: {exc.strerror}; choose another path") from None


def write_csv(path: str | Path, table: pd.DataFrame | CurveTable) -> None:
    try:
        if isinstance(table, CurveTable):
            table.to_csv(path)
        else:
            table.to_csv(path, index=False)
    except OSError as exc:
        raise MonkeysError(f"cannot write {path}: {exc.strerror}; choose another path") from None
