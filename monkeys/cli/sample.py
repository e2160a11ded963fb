"""`monkeys sample` and `monkeys runs`."""

from __future__ import annotations

from pathlib import Path

import typer

from monkeys.cli.app import app, console, err_console
from monkeys.errors import MonkeysError

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
    from monkeys.store.shards import ensure_writable

    ensure_writable(Path(run_dir), "run")  # before the model loads, which can take minutes
    report = run_sampling(run_dir, config, lambda: ENGINES.create(engine, model=model), console=err_console)
    console.print(
        f"{report.run.path}: {report.total} samples stored "
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
