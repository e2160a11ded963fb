"""`monkeys solve`: sample with verification in the loop and stop each problem once it is solved."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from monkeys.cli.app import app, console, err_console
from monkeys.errors import MonkeysError


@app.command()
def solve(
    task: str = typer.Option(..., "--task", help="gsm8k, math, math500, humaneval, jsonl, ..."),
    max_per_problem: int = typer.Option(..., "--max-per-problem", help="cap of samples per problem (K)"),
    model: str | None = typer.Option(None, "--model", help="model name or path; default: embedded SmolLM2"),
    run: str | None = typer.Option(None, "--run", help="run directory (default: runs/<task>-<model>-solve)"),
    successes: int = typer.Option(1, "--successes", help="stop a problem at this many verified passes (m)"),
    stop: str = typer.Option("pass", "--stop", help="pass: m verified passes; majority: the vote is decided"),
    budget: int | None = typer.Option(None, "--budget", help="samples the whole run may draw"),
    budget_tokens: int | None = typer.Option(None, "--budget-tokens", help="generated tokens it may spend"),
    budget_dollars: float | None = typer.Option(
        None, "--budget-dollars", help="dollars it may spend, priced by --prices"
    ),
    prices: Path | None = typer.Option(  # noqa: B008
        None, "--prices", help="YAML price file (as for `monkeys cost`): model -> input, output $/M tokens"
    ),
    distinct: bool = typer.Option(
        True, "--distinct/--all-passes", help="--successes counts distinct passing programs/answers"
    ),
    speculate: float = typer.Option(
        0.1, "--speculate", help="draw ahead of verdicts while P(the problem stops first) <= this (0: off)"
    ),
    policy: str = typer.Option("beta-binomial", "--policy", help="beta-binomial or round-robin"),
    stratum: str | None = typer.Option(None, "--stratum", help="task field the policy's prior is fitted per"),
    confidence: float = typer.Option(0.95, "--confidence", help="majority: P(leader stays leader) to stop"),
    min_samples: int = typer.Option(3, "--min-samples", help="majority: samples before a problem may stop"),
    in_flight: int = typer.Option(256, "--in-flight", help="samples kept in the engine"),
    growth: float = typer.Option(0.125, "--growth", help="each chunk is this fraction of what a problem has"),
    fill: bool = typer.Option(True, "--fill/--no-fill", help="give spare engine room to open problems"),
    chunk_size: int = typer.Option(64, "--max-chunk", help="largest request (n)"),
    verifier: str | None = typer.Option(None, "--verifier", help="default: the task's"),
    workers: int | None = typer.Option(None, "--workers", help="verifier worker processes"),
    timeout: float = typer.Option(10.0, "--timeout", help="seconds per check"),
    limit: int | None = typer.Option(None, "--limit", help="first N problems (after --offset)"),
    offset: int = typer.Option(0, "--offset"),
    problems: str | None = typer.Option(None, "--problems", help="comma-separated problem ids"),
    data_dir: str | None = typer.Option(None, "--data-dir", help="local data; default MONKEYS_DATA_DIR"),
    data: str | None = typer.Option(None, "--data", help="the jsonl task's problems file"),
    temperature: float = typer.Option(0.6, "--temperature"),
    top_p: float = typer.Option(1.0, "--top-p"),
    max_tokens: int = typer.Option(512, "--max-tokens"),
    n_shot: int = typer.Option(5, "--n-shot"),
    seed: int = typer.Option(0, "--seed", help="run seed: sample j of a problem has seed base + j"),
    engine: str = typer.Option("vllm", "--engine", help="vllm (in-process) | openai (HTTP servers)"),
    base_url: list[str] | None = typer.Option(  # noqa: B008
        None, "--base-url", help="openai engine: a server's /v1 URL; repeat it for a fleet of servers"
    ),
    concurrency: int = typer.Option(64, "--concurrency", help="openai engine: requests in flight per server"),
    endpoint: str = typer.Option("completions", "--endpoint", help="openai engine: completions | chat"),
    per_problem: bool = typer.Option(True, "--per-problem/--summary-only", help="print a row per problem"),
) -> None:
    """Sample until each problem has m verified passes (or its vote is decided), within a budget."""
    from monkeys.sampler import ENGINES, SampleConfig, SamplingParams
    from monkeys.sampler.embedded import DEFAULT_MODEL
    from monkeys.sampler.replicas import engine_factory
    from monkeys.sampler.solve import SolveConfig
    from monkeys.sampler.solve import solve as run_solve
    from monkeys.tasks import TASKS, TaskOptions

    if engine not in ENGINES:
        raise MonkeysError(f"unknown engine {engine!r}; choose one of: {', '.join(ENGINES.names())}")
    if task not in TASKS:
        raise MonkeysError(f"unknown task {task!r}; choose one of: {', '.join(TASKS.names())}")
    model_name = model or DEFAULT_MODEL
    run_dir = run or str(Path("runs") / f"{task}-{model_name.replace('/', '_').replace(':', '_')}-solve")
    options = TaskOptions(
        data_dir=data_dir,
        data_file=data,
        limit=limit,
        offset=offset,
        problem_ids=tuple(x.strip() for x in problems.split(",") if x.strip()) if problems else (),
        seed=seed,
        n_shot=n_shot,
    )
    price = None
    if budget_dollars is not None:
        from monkeys.analysis.model_config import price_for, read_prices

        if prices is None:
            raise MonkeysError("--budget-dollars needs prices; pass --prices prices.yaml")
        price = price_for(model_name, read_prices(prices), f"price file {prices}")
    params = SamplingParams(temperature, top_p, max_tokens, tuple(TASKS.create(task).stop))
    sample = SampleConfig(task, options, model_name, max_per_problem, seed, chunk_size, params, engine)
    config = SolveConfig(
        sample=sample,
        successes=successes,
        stop=stop,
        verifier=verifier,
        budget_samples=budget,
        budget_tokens=budget_tokens,
        budget_dollars=budget_dollars,
        price=price,
        distinct=distinct,
        speculate=speculate,
        policy=policy,
        stratum=stratum,
        in_flight=in_flight,
        growth=growth,
        fill=fill,
        confidence=confidence,
        min_samples=min_samples,
        workers=workers,
        timeout=timeout,
    )
    shown = {"at": 0}

    def progress(solver: Any) -> None:
        done = sum(s.done for s in solver.states)
        if solver.issued_total - shown["at"] >= 1000:
            shown["at"] = solver.issued_total
            err_console.print(
                f"solve: {done}/{len(solver.states)} problems stopped, {solver.issued_total} samples",
                highlight=False,
            )

    try:
        make_engine = engine_factory(engine, model, base_url or [], concurrency, endpoint)
        report = run_solve(run_dir, config, make_engine, on_progress=progress)
    except KeyboardInterrupt:
        raise MonkeysError(
            f"interrupted; samples and verdicts are stored in {run_dir}; rerun to resume"
        ) from None
    print_report(report, config, per_problem)


def print_report(report: Any, config: Any, per_problem: bool) -> None:
    from rich.table import Table

    from monkeys.analysis.coverage import report_ks
    from monkeys.analysis.stopping import max_k, stop_coverage
    from monkeys.sampler.solve import stops_of

    states = report.states
    cap = config.sample.k
    majority = config.stop == "majority"
    if per_problem:
        table = Table(
            "problem", "status", "samples", "first pass", "stop at" if not majority else "decided at"
        )
        for s in states:
            table.add_row(
                s.problem.problem_id,
                s.status,
                str(s.issued),
                "-" if s.first_pass is None else str(s.first_pass),
                "-" if s.stop_at is None else str(s.stop_at - 1),
            )
        console.print(table)
    full = cap * len(states)
    solved = sum(s.first_pass is not None for s in states)
    dollars = "" if report.dollars is None else f", ${report.dollars:.4f}"
    console.print(
        f"{report.run.path}: {len(states)} problems, {solved} with a verified pass; "
        f"{report.samples} samples ({report.new_samples} new), {report.tokens} tokens{dollars}; "
        f"{full / max(report.samples, 1):.1f}x fewer samples than {cap} per problem ({full}); "
        f"{report.past_stop} drawn past a stop, {report.speculated} drawn ahead of verdicts",
        highlight=False,
    )
    if majority:
        graded = [s.vote_correct for s in states if s.vote_correct is not None]
        acc = sum(graded) / len(graded) if graded else float("nan")
        console.print(
            f"majority vote at the stop: accuracy {acc:.4f} against {report.run.manifest['solve']['verifier']} "
            f"({len(graded)} problems with an answer); {sum(s.status == 'decided' for s in states)} decided "
            f"before the cap",
            highlight=False,
        )
        return
    stops = stops_of(states, config.successes, cap)
    top = max_k(stops)
    if top >= 1:
        ks = report_ks(top)
        cov = stop_coverage(stops, ks)
        console.print(
            "coverage (stopping-time estimate): "
            + ", ".join(f"k={k} {c:.4f}" for k, c in zip(ks, cov, strict=True)),
            highlight=False,
        )
    if report.budget_hit:
        console.print(
            f"budget spent: {sum(s.status == 'budget' for s in states)} problems cut short; coverage is "
            f"reported up to k={top}"
            + ("" if config.successes == 1 else " (with m > 1 cut rows may be biased)"),
            highlight=False,
        )


def print_solve_fit(run: Any, bootstrap: int, seed: int, verifier: str | None, json_out: Path | None) -> None:
    """`fit-scaling` on a solve run: the stopping-time estimator's coverage and the laws fitted to it."""
    from monkeys.analysis.report import write_json
    from monkeys.analysis.solve_runs import solve_fit_scaling

    res = solve_fit_scaling(run, bootstrap, seed, verifier)
    console.print(
        f"{Path(run.path).name} (solve run, {res.estimator} estimator): {res.problems} problems, "
        f"{res.samples_read} samples read; coverage "
        + ", ".join(f"k={k} {c:.4f} [{lo:.4f}, {hi:.4f}]" for k, c, lo, hi in res.coverage),
        highlight=False,
        soft_wrap=True,
    )
    for f in res.fits:
        params = ", ".join(f"{k}={v:.4f}" for k, v in f.params if k in ("a", "b", "A", "B") and v is not None)
        console.print(
            f"  {f.method}: {params or f.degenerate or 'not fitted'}", highlight=False, soft_wrap=True
        )
    if json_out is not None:
        write_json(
            json_out, {"source": str(run.path), "seed": seed, "bootstrap": bootstrap, "solve": res.to_json()}
        )
