"""`monkeys sample` and `monkeys runs`."""

from __future__ import annotations

import typer

from monkeys.cli.app import app, console, err_console

# == sample / runs (spine) ==============================================================================


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
    instruction: str | None = typer.Option(
        None, "--instruction", help="jsonl task: text put before every prompt (a row's own wins)"
    ),
    template: str | None = typer.Option(
        None, "--template", help="jsonl task: prompt template with {prompt}, or `chat` for the model's own"
    ),
    temperature: float | None = typer.Option(
        None, "--temperature", help="sampling temperature (default 0.6)"
    ),
    top_p: float | None = typer.Option(None, "--top-p", help="nucleus sampling mass (default 1.0: off)"),
    max_tokens: int | None = typer.Option(
        None, "--max-tokens", help="new tokens per sample at most (default 512)"
    ),
    subset: str | None = typer.Option(
        None, "--subset", help="a named subset of the task (minif2f: mathd, amc, ...)"
    ),
    n_shot: int | None = typer.Option(None, "--n-shot", help="few-shot exemplars per prompt (default 5)"),
    seed: int = typer.Option(0, "--seed", help="run seed: fixes few-shot choices and every sample's seed"),
    chunk_size: int = typer.Option(64, "--chunk-size", help="samples per request (n)"),
    preset: str | None = typer.Option(None, "--preset", help="paper: the paper's Appendix A settings"),
    engine: str = typer.Option("vllm", "--engine", help="vllm (in-process) | openai (HTTP servers)"),
    base_url: list[str] | None = typer.Option(  # noqa: B008
        None, "--base-url", help="openai engine: a server's /v1 URL; repeat it for a fleet of servers"
    ),
    concurrency: int = typer.Option(64, "--concurrency", help="openai engine: requests in flight per server"),
    endpoint: str = typer.Option("completions", "--endpoint", help="openai engine: completions | chat"),
    ray: str | None = typer.Option(None, "--ray", help="sample on a Ray cluster: auto or HOST:PORT"),
    replicas: int = typer.Option(1, "--replicas", help="--ray: vLLM engines (actors) to start"),
    tensor_parallel: int = typer.Option(1, "--tensor-parallel", help="--ray: GPUs per replica"),
    resume: bool = typer.Option(
        True, "--resume/--no-resume", help="fill missing chunks of an existing run (default)"
    ),
    task_option: list[str] | None = typer.Option(  # noqa: B008  (typer's way to declare a list option)
        None, "-T", "--task-option", help="task plugin option key=value (repeatable)", metavar="KEY=VALUE"
    ),
    engine_option: list[str] | None = typer.Option(  # noqa: B008
        None, "-E", "--engine-option", help="engine option key=value (repeatable)", metavar="KEY=VALUE"
    ),
    verbose: bool = typer.Option(
        False, "--verbose", help="show vLLM's and torch's own messages here instead of in <run>/logs/"
    ),
) -> None:
    """Draw k completions per problem and store them; rerun the same command to resume."""
    from monkeys.api import sample_report
    from monkeys.sampler.base import ENGINES
    from monkeys.tasks import TASKS

    t_opts = TASKS.parse_options(task, task_option or [], "-T") if task_option else {}
    e_opts = ENGINES.parse_options(engine, engine_option or [], "-E") if engine_option else {}
    make_engine = None
    if base_url or ray or engine == "openai":
        from monkeys.sampler.replicas import engine_factory

        make_engine = engine_factory(
            engine, model, base_url or [], concurrency, endpoint, ray, replicas, tensor_parallel
        )
    report = sample_report(
        task,
        k,
        run=run,
        model=model,
        engine=engine,
        resume=resume,
        console=err_console,
        verbose=verbose,
        consoles=(console,),
        make_engine=make_engine,
        limit=limit,
        offset=offset,
        problems=problems,
        data_dir=data_dir,
        data=data,
        instruction=instruction,
        template=template,
        subset=subset,
        temperature=temperature,
        top_p=top_p,
        max_tokens=max_tokens,
        n_shot=n_shot,
        seed=seed,
        chunk_size=chunk_size,
        preset=preset,
        task_options=t_opts,
        engine_options=e_opts,
    )
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
            f"{r.done}/{r.target}" + (f" (+{r.samples - r.done})" if r.samples > r.done else ""),
            f"{100 * r.done / max(r.target, 1):.0f}%",
            r.updated,
        )
    console.print(table)
