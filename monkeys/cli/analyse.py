"""`monkeys fit-scaling` and `monkeys select`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from monkeys.cli.app import app, console
from monkeys.errors import MonkeysError

if TYPE_CHECKING:  # numpy behind them: loaded when a command runs, not when the CLI starts
    from monkeys.analysis.results import Extrapolation, ScalingResult, SelectionResult

# == fit-scaling / select ===============================================================================


def _fmt(x: object, spec: str = ".4f") -> str:
    return "-" if x is None or x != x else format(x, spec)  # None and nan print as "-"


@app.command("fit-scaling")
def fit_scaling(
    run: Annotated[
        list[Path] | None,
        typer.Option("--run", help="run directory (counts from its verdicts); repeat to compare runs"),
    ] = None,
    outcomes: Annotated[
        Path | None,
        typer.Option("--outcomes", help="CSV of counts: [config,] problem, num_samples, num_correct"),
    ] = None,
    config: Annotated[
        list[str] | None, typer.Option("--config", help="only this config of --outcomes (repeatable)")
    ] = None,
    verifier: Annotated[
        str | None, typer.Option("--verifier", help="verdicts of this verifier (default: the task's)")
    ] = None,
    extrapolate: Annotated[
        int | None,
        typer.Option("--extrapolate", help="predict coverage at this k, with intervals, from each law"),
    ] = None,
    plot: Annotated[
        Path | None, typer.Option("--plot", help="write a PNG of coverage and the fitted laws")
    ] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="write every number as JSON here")] = None,
    csv: Annotated[
        Path | None, typer.Option("--csv", help="write coverage and fitted curves as CSV here")
    ] = None,
    bootstrap: Annotated[int, typer.Option("--bootstrap", help="bootstrap resamples of the problems")] = 200,
    seed: Annotated[int, typer.Option("--seed", help="seed of the bootstrap and back-tests")] = 0,
) -> None:
    """Coverage curves (unbiased pass@k), scaling-law fits and extrapolation, from a run or an outcomes table."""
    from monkeys.analysis.outcomes import read_outcomes, run_counts
    from monkeys.analysis.report import fit_scaling as analyse
    from monkeys.analysis.report import write_csv, write_json

    if (not run) == (outcomes is None):
        raise MonkeysError("pass --run DIR (one or more) or --outcomes FILE.csv, not both")
    if run:
        from monkeys.analysis.solve_runs import is_solve_run
        from monkeys.store import Run

        if len(run) == 1 and is_solve_run(Run.open(run[0])):  # stopped runs need the stopping-time estimator
            from monkeys.cli.solve import print_solve_fit

            return print_solve_fit(Run.open(run[0]), bootstrap, seed, verifier, json_out)

        by_config = {}
        for path in run:  # each run is one config: one table row block, one panel of the plot
            counts = run_counts(Run.open(path), verifier)
            name = counts.name if counts.name not in by_config else str(path)
            if name in by_config:
                raise MonkeysError(f"--run {path} is given twice; pass each run once")
            by_config[name] = counts
        source = ", ".join(str(p) for p in run)
    else:
        by_config, source = read_outcomes(outcomes, config), str(outcomes)
    result, curves, _ = analyse(by_config, bootstrap, seed, extrapolate, source)
    for line in fit_scaling_lines(result):
        console.print(line, highlight=False, soft_wrap=True)
    if json_out is not None:
        write_json(json_out, result.to_json())
    if csv is not None:
        write_csv(csv, curves)
    if plot is not None:
        from monkeys.analysis.plots import plot_fit_scaling

        plot_fit_scaling(curves.to_frame(), plot, result.to_json()["configs"])
        console.print(f"plot: {plot}", highlight=False, soft_wrap=True)


LAWS = ("power_law", "neg_log_power_law", "distributional")


def fit_scaling_lines(result: ScalingResult) -> list[str]:
    """The text of `monkeys fit-scaling`: per config its coverage, each law's fit and the extrapolation."""
    lines = []
    for name, e in result.configs:
        n = e.samples_per_problem
        pl, nl, d = e.fit("power_law"), e.fit("neg_log_power_law"), e.fit("distributional")
        lines.append(
            f"{name}: {e.problems} problems x {n} samples; coverage k=1 {e.coverage_at(1):.4f}"
            + (f", k={n} {e.coverage_at(n):.4f}" if n > 1 else "")
            + (f"  ({e.degenerate})" if e.degenerate else "")
        )
        scale = d.param("scale")
        lines.append(
            f"  power law  log c = a k^b     a={_fmt(pl.param('a'))} b={_fmt(pl.param('b'))}  "
            f"err {_fmt(pl.err_mean)} +- {_fmt(pl.err_std)}\n"
            f"  -log c = A k^-B              A={_fmt(nl.param('A'))} B={_fmt(nl.param('B'))}  "
            f"err {_fmt(nl.err_mean)} +- {_fmt(nl.err_std)}\n"
            f"  distributional ({e.distributional_model})  alpha={_fmt(d.param('alpha'))} beta={_fmt(d.param('beta'))}"
            + (f" scale={_fmt(scale)}" if "scale" in dict(d.params) else "")
            + f"  err {_fmt(d.err_mean)} +- {_fmt(d.err_std)}; tail exponent {_fmt(d.figure('tail_exponent'), '.3f')},"
            f" window exponent {_fmt(d.figure('window_exponent'), '.3f')}"
        )
        for m in LAWS:
            law = e.fit(m)
            if law.degenerate:
                lines.append(f"  {m}: not fitted, {law.degenerate}")
            elif law.poor_fit:
                lines.append(f"  {m}: poor fit, {law.poor_fit}")
            lines += [f"  {m}: note: {note}" for note in law.notes]
        if e.extrapolation is not None:
            lines += extrapolation_lines(e.extrapolation)
    return lines


def extrapolation_lines(ex: Extrapolation) -> list[str]:
    shown = list(LAWS)
    rec = ex.recommended
    if rec and rec not in shown:
        shown.append(rec)  # model_average: the back-test-weighted mean of the laws
    parts = []
    for m in shown:
        v = ex.prediction(m)
        if v is None:
            continue
        label = m if m != "distributional" or not v.model else f"distributional ({v.model})"
        parts.append(f"{label} {_fmt(v.coverage)} [{_fmt(v.low)}, {_fmt(v.high)}]")
    lines = [f"  coverage at k={ex.k}: " + "; ".join(parts)]
    if rec:
        v = ex.interval or ex.prediction(rec)
        assert v is not None
        lines.append(
            f"  recommended: {rec} {_fmt(v.coverage)} [{_fmt(v.low)}, {_fmt(v.high)}]"
            f" ({ex.reason}" + (f"; interval: {v.how}" if v.how is not None else "") + ")"
        )
    else:
        lines.append(f"  recommended: none ({ex.reason})")
    return lines


@app.command("select")
def select(
    run: Annotated[Path, typer.Option("--run", help="run directory with verdicts")],
    verifier: Annotated[
        str | None, typer.Option("--verifier", help="verdicts of this verifier (default: the task's)")
    ] = None,
    method: Annotated[str, typer.Option("--method", help="majority | best-of-k | weighted | all")] = "all",
    subsets: Annotated[
        int, typer.Option("--subsets", help="random subsets per k (the paper's protocol: 100)")
    ] = 100,
    plot: Annotated[
        Path | None, typer.Option("--plot", help="write a PNG of the methods against coverage")
    ] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="write every number as JSON here")] = None,
    csv: Annotated[
        Path | None, typer.Option("--csv", help="write the curves for every k as CSV here")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="seed of the random subsets")] = 0,
    score: Annotated[
        str | None,
        typer.Option(
            "--score", help="use only this stored score (see `monkeys score`; default: every score)"
        ),
    ] = None,
) -> None:
    """How often majority vote, best-of-k and score-weighted vote pick a correct answer, against coverage."""
    from monkeys.analysis.outcomes import run_name
    from monkeys.analysis.report import select as analyse
    from monkeys.analysis.report import write_csv, write_json
    from monkeys.analysis.votes import run_votes
    from monkeys.store import Run

    r = Run.open(run)
    votes, info = run_votes(r, verifier)
    if score is not None:
        from monkeys.analysis.votes import require_score

        require_score(info, score, r)
        info = {**info, "scorers": [score]}
    names = {
        "majority": ["majority"],
        "best-of-k": ["best_of_k"],
        "weighted": ["weighted_majority"],
        "weighted-majority": ["weighted_majority"],
    }
    if method == "all":
        methods = ["majority"] + (["best_of_k", "weighted_majority"] if info["scorers"] else [])
    elif method in names:
        methods = names[method]
    else:
        raise MonkeysError(
            f"unknown --method {method!r}; choose majority, best-of-k, weighted(-majority) or all"
        )
    result, table = analyse(votes, info, methods, subsets, seed, run_name(r), judge_scorers=True)
    for line in select_lines(result):
        console.print(line, highlight=False, soft_wrap=True, markup=False)
    if json_out is not None:
        write_json(json_out, result.to_json())
    if csv is not None:
        write_csv(csv, table)
    if plot is not None:
        from monkeys.analysis.plots import plot_selection

        plot_selection(table, plot, result.run)


def select_lines(result: SelectionResult) -> list[str]:
    """The text of `monkeys select`: each method against coverage by k, plateaus, gaps, scorers."""
    from monkeys.analysis.results import Skipped

    lines = [
        f"{result.run}: {result.problems} problems x {result.samples_per_problem} samples; verifier "
        f"{result.verifier}; answers grouped by {result.grouping}",
        "  all subsets (random-subset mean +- std), by k:",
    ]
    curves = result.curves()
    lines.append(f"  {'k':<7}{'coverage':<10}" + "".join(f"{m:<34}" for m, _ in curves))
    for k, c in result.coverage:
        cells = [
            f"{_fmt(e.best(k))} ({_fmt(dict(e.subsets_mean)[k])} +- {_fmt(dict(e.subsets_std)[k], '.3f')})".ljust(
                34
            )
            for _, e in curves
        ]
        lines.append(f"  {k:<7}{c:<10.4f}" + "".join(cells))
    for m, e in result.methods:
        if isinstance(e, Skipped):
            lines.append(f"  {m}: skipped, {e.skipped}")
        else:
            lines.append(
                f"  {m}: {e.all_subsets_estimator}; plateaus from k={e.plateau_k} "
                f"(coverage: k={result.coverage_plateau_k})"
            )
    for m, e in curves:
        k_last, gap = e.gap[-1]
        lines.append(f"  {m}: gap to coverage at k={k_last} {_fmt(gap)}")
    for s, q in result.scorers_as_verifiers or ():
        lines.append(
            f"  score {s} as a verifier: AUROC {_fmt(q.auroc, '.3f')} (within problems "
            f"{_fmt(q.auroc_within, '.3f')}, {q.problems_mixed} mixed problems), "
            f"top-1 precision {_fmt(q.top1_precision, '.3f')}"
        )
    return lines
