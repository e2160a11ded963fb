"""`monkeys verify` and `monkeys import`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from monkeys.cli.app import app, console, err_console
from monkeys.errors import MonkeysError

# == verify / import ====================================================================================


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
        float | None,
        typer.Option(
            "--timeout",
            help="hard limit per check, seconds (default: a code task's own limit, e.g. HumanEval 3; else 10)",
        ),
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
    lean_project: Annotated[
        Path | None,
        typer.Option("--lean-project", help="lean verifier: the project `monkeys lean setup` made"),
    ] = None,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="neither read nor write the verdict cache")
    ] = False,
    verifier_option: Annotated[
        list[str] | None,
        typer.Option(
            "-V", "--verifier-option", help="verifier option key=value (repeatable)", metavar="KEY=VALUE"
        ),
    ] = None,
    regrade: Annotated[
        bool,
        typer.Option(
            "--regrade", help="grade every sample again when the run's verdicts were made with other options"
        ),
    ] = False,
    ray: Annotated[
        str | None,
        typer.Option(
            "--ray", help="check on a Ray cluster: auto, HOST:PORT, or local (the driver still writes)"
        ),
    ] = None,
) -> None:
    """Give every sample a verdict (deduplicated, cached, resumable) and print coverage at k = 1, 10, 100, ..."""
    import json

    from monkeys.api import verify as verify_api
    from monkeys.store import Run
    from monkeys.store.shards import ensure_writable
    from monkeys.verifiers.base import VERIFIERS

    r = Run.open(run)
    ensure_writable(r.path, "run")
    if json_out is not None:
        ensure_writable(json_out.parent, "--json folder")
        if json_out.is_dir() or (json_out.exists() and not os.access(json_out, os.W_OK)):
            raise MonkeysError(f"--json {json_out} cannot be written; choose another path")
    options: dict[str, object] = {
        "sandbox": sandbox,
        "repeat_borderline": repeat_borderline,
        "lean_project": None if lean_project is None else str(lean_project),
        "timeout": timeout,
        "workers": workers,
    }
    options.update({"unsafe_no_sandbox": True} if unsafe_no_sandbox else {})
    options.update({"all_tests": True} if all_tests else {})
    if verifier_option:
        name = verifier or r.manifest.get("task", {}).get("default_verifier") or ""
        options.update(VERIFIERS.parse_options(name, verifier_option, "-V"))
    res = verify_api(
        r,
        verifier,
        options=options,
        workers=workers,
        timeout=timeout,
        cache=not no_cache,
        regrade=regrade,
        progress=console.is_terminal,
        ray=ray,
    )
    rep, s = res.report, res.summary
    if ray is not None:
        console.print(
            f"ray: {rep.ray_tasks} check batches ran as Ray tasks on the cluster at {ray} "
            f"({rep.ray_failed} failed every try)",
            highlight=False,
            markup=False,
        )
    if rep.without_gold:
        err_console.print(
            f"note: {rep.without_gold} problem(s) have no gold completion (e.g. no Python 3 reference), "
            "so only their empty-completion canary ran",
            highlight=False,
        )
    console.print(
        f"verify {rep.verifier} v{rep.version}: {rep.samples} samples, {rep.already_done} already verified, "
        f"{rep.verified} verified now ({rep.distinct} distinct answers, {rep.cache_hits} of them from the cache"
        + (f", {rep.quick} settled exactly in-process" if rep.quick else "")
        + "; "
        f"{rep.checks} checks incl. canaries; {rep.kills} workers killed) in {rep.seconds:.1f}s",
        highlight=False,
        soft_wrap=True,
    )
    console.print(
        f"coverage over {s.problems} problems (unbiased pass@k, 95% bootstrap interval):", highlight=False
    )
    for k, c in s.coverage.items():
        lo, hi = s.coverage_ci95[k]
        console.print(f"  k={k:<6} {c:.4f}  [{lo:.4f}, {hi:.4f}]", highlight=False)
    console.print("verdicts: " + "  ".join(f"{v} {n}" for v, n in s.verdicts.items()), highlight=False)
    for other, a in s.agreement.items():
        rate = "n/a" if a.rate is None else f"{100 * a.rate:.2f}%"
        console.print(
            f"agreement with {other}: {rate} of {a.samples} samples (ours pass/theirs fail "
            f"{a.ours_pass_theirs_fail}, ours fail/theirs pass {a.ours_fail_theirs_pass})",
            highlight=False,
        )
    for warning in s.warnings:
        err_console.print(warning, highlight=False, markup=False, soft_wrap=True)
    if json_out is not None:
        json_out.write_text(json.dumps(s.to_json(), indent=2) + "\n")


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
    all_problems: Annotated[
        bool,
        typer.Option("--all-problems", help="a new run holds all the task's problems, not just the file's"),
    ] = False,
    data: Annotated[
        Path | None, typer.Option("--data", help="the jsonl task's problems file (with --task jsonl)")
    ] = None,
) -> None:
    """Bring samples made elsewhere (and their correctness labels) into a run."""
    from monkeys.store.ingest import IMPORTED, import_file

    rep = import_file(
        run,
        file,
        task=task,
        fmt=fmt,
        data_dir=data_dir,
        skip_bad=skip_bad,
        model=model,
        all_problems=all_problems,
        data_file=data,
    )
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
