"""`monkeys verify` and `monkeys import`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from monkeys.cli.app import app, console, err_console

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

    from monkeys.analysis.verify_summary import summarize
    from monkeys.store import Run
    from monkeys.verifiers.stage.cache import VerdictCache
    from monkeys.verifiers.stage.runner import verify_run

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
    data: Annotated[
        Path | None, typer.Option("--data", help="the jsonl task's problems file (with --task jsonl)")
    ] = None,
) -> None:
    """Bring samples made elsewhere (and their correctness labels) into a run."""
    from monkeys.store.ingest import IMPORTED, import_file

    rep = import_file(
        run, file, task=task, fmt=fmt, data_dir=data_dir, skip_bad=skip_bad, model=model, data_file=data
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
