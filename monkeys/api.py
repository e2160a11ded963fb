"""The Python API: the four stages as functions, behaving exactly like the commands of the same names.

import monkeys
run = monkeys.sample("gsm8k", k=8, limit=2)
print(monkeys.verify(run).coverage)   # {1: 0.25, 8: 0.5}
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from monkeys.analysis.verify_summary import VerifySummary
from monkeys.errors import UsageError
from monkeys.store import Run
from monkeys.verifiers.stage.runner import VerifyReport

if TYPE_CHECKING:
    from monkeys.analysis.results import ScalingResult, SelectionResult

RunLike = Run | str | os.PathLike[str]


def _run(run: RunLike) -> Run:
    return run if isinstance(run, Run) else Run.open(run)


@dataclass(frozen=True)
class VerifyResult:
    """What `verify` did (`report`) and what the run's verdicts now say (`summary`)."""

    report: VerifyReport
    summary: VerifySummary

    @property
    def coverage(self) -> dict[int, float]:
        """Unbiased pass@k at k = 1, 10, 100, ... and the fewest samples any problem has."""
        return self.summary.coverage


def sample_report(
    task: str,
    k: int,
    *,
    run: str | os.PathLike[str] | None = None,
    model: str | None = None,
    engine: str = "vllm",
    resume: bool = True,
    console: Any = None,
    verbose: bool = False,
    consoles: tuple[Any, ...] = (),
    make_engine: Any = None,
    **settings: Any,
) -> Any:
    """Draw k samples per problem of `task` into `run` (default `runs/<task>-<model>`); resumable. Returns
    the `SampleReport`. `settings` are `sample_config`'s keywords (limit, temperature, preset,
    task_options, engine_options, ...)."""
    from monkeys.sampler.base import ENGINES
    from monkeys.sampler.progress import run_sampling
    from monkeys.sampler.settings import default_run_dir, sample_config

    config = sample_config(task, k, model=model, engine=engine, **settings)
    run_dir = str(run) if run is not None else default_run_dir(task, config.model)
    if not resume and Run.exists(run_dir):
        raise UsageError(f"{run_dir} already holds a run and --no-resume was given; choose a new --run")
    from monkeys.store.shards import ensure_writable

    ensure_writable(Path(run_dir), "run")  # before the model loads, which can take minutes
    params = dict(config.engine_params)
    return run_sampling(
        run_dir,
        config,
        make_engine or (lambda: ENGINES.create(engine, model=model, **params)),
        console=console,
        verbose=verbose,
        consoles=consoles,
    )


def sample(task: str, k: int, **kwargs: Any) -> Run:
    """`monkeys sample` as a function: the filled run. Keywords as `sample_report`."""
    return sample_report(task, k, **kwargs).run


def verify(
    run: RunLike,
    verifier: str | None = None,
    *,
    options: Mapping[str, Any] | None = None,
    workers: int | None = None,
    timeout: float | None = None,
    cache: bool = True,
    regrade: bool = False,
    progress: bool = False,
    ray: str | None = None,
) -> VerifyResult:
    """`monkeys verify` as a function: give every sample a verdict and summarise coverage.

    `options` are the verifier's own options (sandbox, all_tests, repeat_borderline, a plugin's keys);
    they are part of the verdicts' identity (see `monkeys.store.verdict_sets`)."""
    from monkeys.verifiers.stage.cache import VerdictCache
    from monkeys.verifiers.stage.runner import verify_run

    r = _run(run)
    rep = verify_run(
        r,
        verifier,
        dict(options or {}),
        workers=workers,
        timeout=timeout,
        cache=VerdictCache() if cache else None,
        progress=progress,
        regrade=regrade,
        ray=ray,
    )
    return VerifyResult(rep, VerifySummary.of(r, rep.verifier))


def fit_scaling(
    run: RunLike | None = None,
    *,
    outcomes: str | os.PathLike[str] | None = None,
    configs: list[str] | None = None,
    verifier: str | None = None,
    extrapolate: int | None = None,
    bootstrap: int = 200,
    seed: int = 0,
) -> ScalingResult:
    """`monkeys fit-scaling` as a function: coverage, fits and extrapolation per config, as a typed
    `ScalingResult` (`.to_json()` is the document `--json` writes)."""
    from monkeys.analysis.outcomes import read_outcomes, run_counts
    from monkeys.analysis.report import fit_scaling as analyse

    if (run is None) == (outcomes is None):
        raise UsageError("pass exactly one of --run DIR or --outcomes FILE.csv")
    if run is not None:
        counts = run_counts(_run(run), verifier)
        by_config, source = {counts.name: counts}, str(_run(run).path)
    else:
        by_config, source = read_outcomes(Path(outcomes), configs), str(outcomes)  # type: ignore[arg-type]
    result, _, _ = analyse(by_config, bootstrap, seed, extrapolate, source)
    return result


def select(
    run: RunLike, *, verifier: str | None = None, method: str = "all", subsets: int = 100, seed: int = 0
) -> SelectionResult:
    """`monkeys select` as a function: majority vote / best-of-k / weighted vote against coverage, as a
    typed `SelectionResult` (`.to_json()` is the document `--json` writes)."""
    from monkeys.analysis.outcomes import run_name
    from monkeys.analysis.report import select as analyse
    from monkeys.analysis.votes import run_votes

    r = _run(run)
    votes, info = run_votes(r, verifier)
    methods = selection_methods(method, bool(info["scorers"]))
    result, _ = analyse(votes, info, methods, subsets, seed, run_name(r), judge_scorers=True)
    return result


def selection_methods(method: str, scored: bool) -> list[str]:
    """`--method` to the methods computed: majority | best-of-k | weighted | all."""
    names = {"majority": ["majority"], "best-of-k": ["best_of_k"], "weighted": ["weighted_majority"]}
    if method == "all":
        return ["majority"] + (["best_of_k", "weighted_majority"] if scored else [])
    if method in names:
        return names[method]
    raise UsageError(f"unknown --method {method!r}; choose majority, best-of-k, weighted or all")


__all__ = ["VerifyResult", "fit_scaling", "sample", "sample_report", "select", "selection_methods", "verify"]
