"""`monkeys show` (look at a run's problems, samples and verdicts) and `monkeys list` (the plugins)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from monkeys.cli.app import app, console


@app.command("show")
def show(
    run: Annotated[Path, typer.Option("--run", help="run directory")],
    problem: Annotated[
        str | None, typer.Option("--problem", help="this problem: its prompt, reference and samples")
    ] = None,
    verdict: Annotated[
        str | None,
        typer.Option("--verdict", help="only samples with this verdict: pass | fail | timeout | error"),
    ] = None,
    verifier: Annotated[
        str | None, typer.Option("--verifier", help="verdicts of this verifier (default: the task's)")
    ] = None,
    sample: Annotated[int | None, typer.Option("--sample", help="only this sample index")] = None,
    limit: Annotated[int, typer.Option("--limit", help="samples shown at most")] = 5,
    prompt: Annotated[
        bool, typer.Option("--prompt", help="also print the prompt that produced the samples")
    ] = False,
    full: Annotated[
        bool, typer.Option("--full", help="print whole texts instead of the first 2,000 characters")
    ] = False,
) -> None:
    """Look at a run: problems with pass rates, or samples with their verdicts (texts shown safely)."""
    from rich.table import Table

    from monkeys.analysis import browse
    from monkeys.store import Run

    r = Run.open(run)
    cut = None if full else 2000
    if problem is None and verdict is None and sample is None:
        view = browse.overview(r, verifier)
        verdicts = "  ".join(f"{v} {n}" for v, n in view.verdict_counts.items())
        console.print(
            f"{view.path}: task {view.task}, model {view.model}, k={view.k}, {len(view.problems)} problems; "
            + (
                f"verifier {view.verifier}: {verdicts}"
                if view.verifier
                else "no verdicts yet (monkeys verify)"
            ),
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
        table = Table("problem", "samples", "passed", "pass rate", "first pass", "empty")
        for p in view.problems:
            rate = "-" if p.passed is None or not p.samples else f"{p.passed / p.samples:.3f}"
            table.add_row(
                browse.safe_text(p.problem_id, 80),
                str(p.samples),
                "-" if p.passed is None else str(p.passed),
                rate,
                "-" if p.first_pass is None else str(p.first_pass),
                str(p.empty),
            )
        console.print(table)
        console.print(
            "next: monkeys show --run RUN --problem ID [--verdict fail] [--prompt]",
            highlight=False,
            markup=False,
        )
        return
    if problem is not None:
        fields = browse.problem_fields(r, problem)
        console.print(f"== problem {browse.safe_text(problem, 200)}", highlight=False, markup=False)
        console.print(
            f"reference: {browse.safe_text(str(fields.get('reference', '')), cut)}",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
        if prompt:
            console.print("-- prompt", highlight=False, markup=False)
            console.print(
                browse.safe_text(str(fields.get("prompt", "")), None if full else 8000),
                highlight=False,
                markup=False,
                soft_wrap=True,
            )
    chosen, shown, matched = browse.samples(r, problem, verdict, verifier, sample, limit)
    console.print(
        f"-- {matched} sample(s) match"
        + (f", showing {len(shown)}" if len(shown) < matched else "")
        + (f"; verdicts of {chosen}" if chosen else "; no verdicts yet"),
        highlight=False,
        markup=False,
    )
    for s in shown:
        head = f"[{s.problem_id} #{s.sample_index}] {s.verdict or 'unverified'}"
        if s.completion_tokens is not None:
            head += f", {s.completion_tokens} tokens, finish {s.finish_reason}"
        console.print(browse.safe_text(head, 300), highlight=False, markup=False, soft_wrap=True)
        if s.detail:
            console.print(
                f"  detail: {browse.safe_text(s.detail, 500)}", highlight=False, markup=False, soft_wrap=True
            )
        if s.answer is not None:
            console.print(
                f"  answer: {browse.safe_text(s.answer, 500)}", highlight=False, markup=False, soft_wrap=True
            )
        console.print(browse.safe_text(s.text, cut), highlight=False, markup=False, soft_wrap=True)
        console.print("", highlight=False)


@app.command("list")
def list_plugins(
    kind: Annotated[
        str | None, typer.Argument(help="tasks | verifiers | engines | sandboxes | scorers (default: all)")
    ] = None,
) -> None:
    """The tasks, verifiers, engines and sandboxes monkeys knows, with the options each takes."""
    import monkeys.verifiers  # noqa: F401  (registers the built-in verifiers)
    from monkeys.errors import MonkeysError
    from monkeys.sampler import ENGINES
    from monkeys.scorers import SCORERS
    from monkeys.tasks import TASKS
    from monkeys.verifiers.base import VERIFIERS
    from monkeys.verifiers.sandbox import SANDBOXES

    registries = {
        "tasks": TASKS,
        "verifiers": VERIFIERS,
        "engines": ENGINES,
        "sandboxes": SANDBOXES,
        "scorers": SCORERS,
    }
    if kind is not None and kind not in registries:
        raise MonkeysError(f"unknown kind {kind!r}; choose one of: {', '.join(registries)}")
    for name, registry in registries.items():
        if kind is not None and name != kind:
            continue
        console.print(f"{name}:", highlight=False, markup=False)
        for info in registry.describe():
            opts = ", ".join(
                f"{o.name}: {o.type}" + ("" if o.default is None else f" = {o.default}") for o in info.options
            )
            console.print(
                f"  {info.name:<14} {info.summary}" + (f"\n  {'':<14} options: {opts}" if opts else ""),
                highlight=False,
                markup=False,
                soft_wrap=True,
            )
