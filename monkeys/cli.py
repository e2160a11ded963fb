"""The `monkeys` command line: a thin typer app that parses, calls and prints.

User mistakes arrive as MonkeysError and leave as one line on stderr with exit code 2.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from monkeys.errors import MonkeysError

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="Repeated sampling: sample, verify, fit scaling laws."
)
console = Console()
err_console = Console(stderr=True)


# == sample / runs (spine) ==============================================================================


# == verify / import ====================================================================================
from pathlib import Path  # noqa: E402
from typing import Annotated  # noqa: E402


@app.command()
def verify(
    run: Annotated[Path, typer.Option("--run", help="run directory")],
    verifier: Annotated[
        str | None, typer.Option("--verifier", help="verifier name (default: the task's)")
    ] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", help="worker processes (default: all CPU cores)")
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="also write the summary as JSON here")
    ] = None,
    timeout: Annotated[
        float | None, typer.Option("--timeout", help="hard limit per check, seconds (default 10)")
    ] = None,
    sandbox: Annotated[
        str | None, typer.Option("--sandbox", help="code verifiers: bwrap | docker | none")
    ] = None,
    unsafe_no_sandbox: Annotated[
        bool, typer.Option("--unsafe-no-sandbox", help="code verifiers: run without a sandbox")
    ] = False,
    all_tests: Annotated[
        bool,
        typer.Option("--all-tests", help="code verifiers: run every test, not stop at the first failure"),
    ] = False,
    repeat_borderline: Annotated[
        int | None,
        typer.Option("--repeat-borderline", help="code verifiers: rerun near-timeout checks N times"),
    ] = None,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="neither read nor write the verdict cache")
    ] = False,
) -> None:
    """Give every sample a verdict (deduplicated, cached, resumable) and print coverage at k = 1, 10, 100, ..."""
    import json

    from monkeys.store import Run
    from monkeys.verifiers.cache import VerdictCache
    from monkeys.verifiers.runner import verify_run
    from monkeys.verifiers.summary import summarize

    r = Run.open(run)
    options = {
        "sandbox": sandbox,
        "repeat_borderline": repeat_borderline,
        "timeout": timeout,
        "workers": workers,
    }
    options.update({"unsafe_no_sandbox": True} if unsafe_no_sandbox else {})
    options.update({"all_tests": True} if all_tests else {})
    cache = None if no_cache else VerdictCache()
    rep = verify_run(
        r, verifier, options, workers=workers, timeout=timeout, cache=cache, progress=console.is_terminal
    )
    s = summarize(r, rep.verifier)
    console.print(
        f"verify {rep.verifier} v{rep.version}: {rep.samples} samples, {rep.already_done} already verified, "
        f"{rep.verified} verified now ({rep.distinct} distinct answers, {rep.cache_hits} of them from the cache; "
        f"{rep.checks} checks incl. canaries; {rep.kills} workers killed) in {rep.seconds:.1f}s",
        highlight=False,
        soft_wrap=True,
    )
    console.print(
        f"coverage over {s['problems']} problems (unbiased pass@k, 95% bootstrap interval):", highlight=False
    )
    for k, c in s["coverage"].items():
        lo, hi = s["coverage_ci95"][k]
        console.print(f"  k={k:<6} {c:.4f}  [{lo:.4f}, {hi:.4f}]", highlight=False)
    console.print("verdicts: " + "  ".join(f"{v} {n}" for v, n in s["verdicts"].items()), highlight=False)
    for other, a in s["agreement"].items():
        rate = "n/a" if a["rate"] is None else f"{100 * a['rate']:.2f}%"
        console.print(
            f"agreement with {other}: {rate} of {a['samples']} samples (ours pass/theirs fail "
            f"{a['ours_pass_theirs_fail']}, ours fail/theirs pass {a['ours_fail_theirs_pass']})",
            highlight=False,
        )
    if json_out is not None:
        json_out.write_text(json.dumps(s, indent=2) + "\n")


@app.command("import")
def import_samples(
    file: Annotated[
        Path,
        typer.Argument(
            help="JSONL rows {problem_id, text[, sample_index, is_correct]} or monkey_business rows"
        ),
    ],
    run: Annotated[Path, typer.Option("--run", help="run directory (created if missing)")],
    task: Annotated[str | None, typer.Option("--task", help="task of a new run (gsm8k, math, ...)")] = None,
    fmt: Annotated[str, typer.Option("--format", help="auto | jsonl | monkey-business")] = "auto",
    data_dir: Annotated[
        str | None, typer.Option("--data-dir", help="local task data (default: MONKEYS_DATA_DIR)")
    ] = None,
    skip_bad: Annotated[
        bool, typer.Option("--skip-bad", help="import the good lines when some are bad")
    ] = False,
    model: Annotated[
        str | None, typer.Option("--model", help="model that made the samples, for the manifest")
    ] = None,
) -> None:
    """Bring samples made elsewhere (and their correctness labels) into a run."""
    from monkeys.sampler.imports import IMPORTED, import_file

    rep = import_file(run, file, task=task, fmt=fmt, data_dir=data_dir, skip_bad=skip_bad, model=model)
    made = " (created)" if rep.created else ""
    labels = f", {rep.labels} labels as verifier '{IMPORTED}'" if rep.labels else ""
    console.print(
        f"imported {rep.imported} samples{labels} for {rep.problems} problems into {rep.run}{made} [{rep.format}]",
        highlight=False,
    )
    if rep.bad:
        shown = "; ".join(f"{n}: {why}" for n, why in rep.bad[:5])
        err_console.print(f"skipped {len(rep.bad)} bad item(s): {shown}", highlight=False, soft_wrap=True)


# == fit-scaling / select ===============================================================================


def _fmt(x: object, spec: str = ".4f") -> str:
    return "-" if x is None or x != x else format(x, spec)  # None and nan print as "-"


@app.command("fit-scaling")
def fit_scaling(
    run: Annotated[
        Path | None, typer.Option("--run", help="run directory (counts from its verdicts)")
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

    if (run is None) == (outcomes is None):
        raise MonkeysError("pass exactly one of --run DIR or --outcomes FILE.csv")
    if run is not None:
        from monkeys.store import Run

        counts = run_counts(Run.open(run), verifier)
        by_config, source = {counts.name: counts}, str(run)
    else:
        by_config, source = read_outcomes(outcomes, config), str(outcomes)
    doc, curves, _ = analyse(by_config, bootstrap, seed, extrapolate, source)
    for name, e in doc["configs"].items():
        n = e["samples_per_problem"]
        f = e["fits"]
        pl, nl, d = f["power_law"], f["neg_log_power_law"], f["distributional"]
        console.print(
            f"[bold]{name}[/]: {e['problems']} problems x {n} samples; coverage k=1 {e['coverage']['1']:.4f}"
            + (f", k={n} {e['coverage'][str(n)]:.4f}" if n > 1 else "")
            + (f"  ({e['degenerate']})" if "degenerate" in e else ""),
            highlight=False,
            soft_wrap=True,
        )
        console.print(
            f"  power law  log c = a k^b     a={_fmt(pl.get('a'))} b={_fmt(pl.get('b'))}  "
            f"err {_fmt(pl['err_mean'])} +- {_fmt(pl['err_std'])}\n"
            f"  -log c = A k^-B              A={_fmt(nl.get('A'))} B={_fmt(nl.get('B'))}  "
            f"err {_fmt(nl['err_mean'])} +- {_fmt(nl['err_std'])}\n"
            f"  distributional ({d['model']})  alpha={_fmt(d.get('alpha'))} beta={_fmt(d.get('beta'))}"
            + (f" scale={_fmt(d.get('scale'))}" if "scale" in d else "")
            + f"  err {_fmt(d['err_mean'])} +- {_fmt(d['err_std'])}; tail exponent {_fmt(d.get('tail_exponent'), '.3f')},"
            f" window exponent {_fmt(d.get('window_exponent'), '.3f')}",
            highlight=False,
            soft_wrap=True,
        )
        for m in ("power_law", "neg_log_power_law", "distributional"):
            if "degenerate" in f[m]:
                console.print(f"  {m}: not fitted, {f[m]['degenerate']}", highlight=False, soft_wrap=True)
        ex = e.get("extrapolation")
        if ex:
            parts = []
            for m in ("power_law", "neg_log_power_law", "distributional"):
                v = ex[m]
                parts.append(f"{m} {_fmt(v['coverage'])} [{_fmt(v['low'])}, {_fmt(v['high'])}]")
            console.print(f"  coverage at k={ex['k']}: " + "; ".join(parts), highlight=False, soft_wrap=True)
            console.print(
                f"  recommended: {ex['recommended']} ({ex['reason']})", highlight=False, soft_wrap=True
            )
    if json_out is not None:
        write_json(json_out, doc)
    if csv is not None:
        write_csv(csv, curves)
    if plot is not None:
        from monkeys.analysis.plots import plot_fit_scaling

        plot_fit_scaling(curves, plot, {k: v.get("extrapolation") for k, v in doc["configs"].items()})


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
) -> None:
    """How often majority vote, best-of-k and score-weighted vote pick a correct answer, against coverage."""
    from monkeys.analysis.outcomes import run_name
    from monkeys.analysis.report import select as analyse
    from monkeys.analysis.report import write_csv, write_json
    from monkeys.analysis.votes import run_votes
    from monkeys.store import Run

    r = Run.open(run)
    votes, info = run_votes(r, verifier)
    names = {"majority": ["majority"], "best-of-k": ["best_of_k"], "weighted": ["weighted_majority"]}
    if method == "all":
        methods = ["majority"] + (["best_of_k", "weighted_majority"] if info["scorers"] else [])
    elif method in names:
        methods = names[method]
    else:
        raise MonkeysError(f"unknown --method {method!r}; choose majority, best-of-k, weighted or all")
    doc, table = analyse(votes, info, methods, subsets, seed, run_name(r))
    console.print(
        f"{doc['run']}: {doc['problems']} problems x {doc['samples_per_problem']} samples; verifier {doc['verifier']}; "
        f"answers grouped by {doc['grouping']}",
        highlight=False,
        soft_wrap=True,
    )
    keys = [m for m in doc["methods"] if "skipped" not in doc["methods"][m]]
    console.print("  all subsets (random-subset mean +- std), by k:", highlight=False)
    console.print(
        f"  {'k':<7}{'coverage':<10}" + "".join(f"{m:<34}" for m in keys),
        highlight=False,
        soft_wrap=True,
        markup=False,
    )
    for k, c in doc["coverage"].items():
        cells = []
        for m in keys:
            e = doc["methods"][m]
            val = (e["all_subsets"] or e["subsets_mean"])[k]
            cells.append(
                f"{_fmt(val)} ({_fmt(e['subsets_mean'][k])} +- {_fmt(e['subsets_std'][k], '.3f')})".ljust(34)
            )
        console.print(f"  {k:<7}{c:<10.4f}" + "".join(cells), highlight=False, soft_wrap=True, markup=False)
    for m in doc["methods"]:
        e = doc["methods"][m]
        if "skipped" in e:
            console.print(f"  {m}: skipped, {e['skipped']}", highlight=False, markup=False)
        else:
            console.print(
                f"  {m}: {e['all_subsets_estimator']}; plateaus from k={e['plateau_k']} "
                f"(coverage: k={doc['coverage_plateau_k']})",
                highlight=False,
                soft_wrap=True,
                markup=False,
            )
    if json_out is not None:
        write_json(json_out, doc)
    if csv is not None:
        write_csv(csv, table)
    if plot is not None:
        from monkeys.analysis.plots import plot_selection

        plot_selection(table, plot, doc["run"])


def main() -> None:
    try:
        app()
    except MonkeysError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
