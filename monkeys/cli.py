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
# Piped output (logs, tests, CI) keeps whole lines instead of rich's 80-column wrapping.
console = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, soft_wrap=True, width=None if sys.stderr.isatty() else 160)


# == sample / runs (spine) ==============================================================================

PRESETS: dict[str, dict[str, object]] = {
    # The paper's Appendix A settings for GSM8K and MATH: temperature 0.6, no nucleus sampling,
    # 512 new tokens, 5-shot prompts.
    "paper": {"temperature": 0.6, "top_p": 1.0, "max_tokens": 512, "n_shot": 5},
}


@app.command()
def sample(
    task: str = typer.Option(..., "--task", help="gsm8k, math, math500, humaneval, jsonl, ..."),
    k: int = typer.Option(..., "-k", help="samples per problem"),
    model: str | None = typer.Option(
        None, "--model", help="model name or path; default: embedded SmolLM2-135M"
    ),
    run: str | None = typer.Option(None, "--run", help="run directory (default: runs/<task>-<model>)"),
    limit: int | None = typer.Option(None, "--limit", help="first N problems (after --offset)"),
    offset: int = typer.Option(0, "--offset", help="skip the first N problems"),
    problems: str | None = typer.Option(None, "--problems", help="comma-separated problem ids to sample"),
    data_dir: str | None = typer.Option(
        None, "--data-dir", help="local data (like shared/data); default: MONKEYS_DATA_DIR or the hub"
    ),
    data: str | None = typer.Option(None, "--data", help="the jsonl task's problems file"),
    temperature: float | None = typer.Option(None, "--temperature"),
    top_p: float | None = typer.Option(None, "--top-p"),
    max_tokens: int | None = typer.Option(None, "--max-tokens"),
    n_shot: int | None = typer.Option(None, "--n-shot", help="few-shot exemplars per prompt (default 5)"),
    seed: int = typer.Option(0, "--seed", help="run seed: fixes few-shot choices and every sample's seed"),
    chunk_size: int = typer.Option(64, "--chunk-size", help="samples per request (n)"),
    preset: str | None = typer.Option(None, "--preset", help="paper: the paper's Appendix A settings"),
    engine: str = typer.Option("vllm", "--engine"),
    resume: bool = typer.Option(
        True, "--resume/--no-resume", help="fill missing chunks of an existing run (default)"
    ),
) -> None:
    """Draw k completions per problem and store them; rerun the same command to resume."""
    from pathlib import Path

    from monkeys.sampler import ENGINES, SampleConfig, SamplingParams, run_sampling
    from monkeys.sampler.embedded import DEFAULT_MODEL
    from monkeys.store import Run
    from monkeys.tasks import TASKS, TaskOptions

    if preset is not None and preset not in PRESETS:
        raise MonkeysError(f"unknown preset {preset!r}; choose one of: {', '.join(PRESETS)}")
    if engine not in ENGINES:
        raise MonkeysError(f"unknown engine {engine!r}; choose one of: {', '.join(ENGINES.names())}")
    if task not in TASKS:
        raise MonkeysError(f"unknown task {task!r}; choose one of: {', '.join(TASKS.names())}")
    chosen = dict(PRESETS.get(preset or "", {}))
    for key, value in (
        ("temperature", temperature),
        ("top_p", top_p),
        ("max_tokens", max_tokens),
        ("n_shot", n_shot),
    ):
        if value is not None:
            chosen[key] = value
    model_name = model or DEFAULT_MODEL
    run_dir = run or str(Path("runs") / f"{task}-{model_name.replace('/', '_').replace(':', '_')}")
    if not resume and Run.exists(run_dir):
        raise MonkeysError(f"{run_dir} already holds a run and --no-resume was given; choose a new --run")
    options = TaskOptions(
        data_dir=data_dir,
        data_file=data,
        limit=limit,
        offset=offset,
        problem_ids=tuple(x.strip() for x in problems.split(",") if x.strip()) if problems else (),
        seed=seed,
        n_shot=int(chosen.get("n_shot", 5)),
    )
    stop = TASKS.create(task).stop
    params = SamplingParams(
        temperature=float(chosen.get("temperature", 0.6)),
        top_p=float(chosen.get("top_p", 1.0)),
        max_tokens=int(chosen.get("max_tokens", 512)),
        stop=tuple(stop),
    )
    if params.temperature < 0 or not 0 < params.top_p <= 1 or params.max_tokens < 1:
        raise MonkeysError("need --temperature >= 0, 0 < --top-p <= 1 and --max-tokens >= 1")
    config = SampleConfig(task, options, model_name, k, seed, chunk_size, params, engine)
    report = run_sampling(run_dir, config, lambda: ENGINES.create(engine, model=model), console=err_console)
    console.print(
        f"[bold]{report.run.path}[/]: {report.total} samples stored "
        f"({report.stored} new in {report.seconds:.1f}s, {report.generated_tokens} tokens generated)"
    )


@app.command("runs")
def list_runs(root: str = typer.Argument("runs", help="folder holding run directories")) -> None:
    """List runs: task, model, samples done/total, last update."""
    from rich.table import Table

    from monkeys.store.catalog import find_runs

    rows = find_runs(root)
    if not rows:
        console.print(f"no runs under {root}")
        return
    table = Table("run", "task", "model", "problems", "samples", "done", "updated")
    for r in rows:
        table.add_row(
            r.path,
            r.task,
            r.model,
            str(r.problems),
            f"{r.samples}/{r.target}",
            f"{100 * r.samples / max(r.target, 1):.0f}%",
            r.updated,
        )
    console.print(table)


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
    if rep.without_gold:
        err_console.print(
            f"note: {rep.without_gold} problem(s) have no gold completion (e.g. no Python 3 reference), "
            "so only their empty-completion canary ran",
            highlight=False,
        )
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
        f"imported {rep.imported} samples{labels} for {rep.problems} problems into {rep.run}{made} ({rep.format})",
        highlight=False,
        markup=False,
    )
    if rep.bad:
        shown = "; ".join(f"{rep.unit} {n}: {why}" for n, why in rep.bad[:5])
        err_console.print(
            f"skipped {len(rep.bad)} bad {rep.unit}(s): {shown}",
            highlight=False,
            soft_wrap=True,
            markup=False,
        )


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
