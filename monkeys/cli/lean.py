"""`monkeys lean setup`: the Lean toolchain, Mathlib and the REPL that the `lean` verifier runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from monkeys.cli.app import app, console

lean_app = typer.Typer(no_args_is_help=True, help="Lean 4 for the minif2f task and the lean verifier.")
app.add_typer(lean_app, name="lean")


@lean_app.command("setup")
def setup(
    directory: Annotated[Path, typer.Option("--dir", help="the Lake project to make (needs internet)")],
    toolchain: Annotated[str | None, typer.Option("--toolchain", help="Lean toolchain to pin")] = None,
    mathlib: Annotated[str | None, typer.Option("--mathlib", help="Mathlib revision to pin")] = None,
    repl: Annotated[str | None, typer.Option("--repl-rev", help="Lean REPL revision")] = None,
) -> None:
    """Make a Lake project pinned to the data's Lean and Mathlib, fetch Mathlib's cache, build the REPL."""
    from monkeys.verifiers.lean.setup import DEFAULT_MATHLIB, DEFAULT_REPL, DEFAULT_TOOLCHAIN, SetupPlan
    from monkeys.verifiers.lean.setup import setup as run_setup

    plan = SetupPlan(
        directory.expanduser().resolve(),
        toolchain or DEFAULT_TOOLCHAIN,
        mathlib or DEFAULT_MATHLIB,
        repl or DEFAULT_REPL,
    )
    path = run_setup(plan)
    console.print(
        f"lean project ready: {plan.directory} ({plan.toolchain}, Mathlib {plan.mathlib}); "
        f"verify with --lean-project {plan.directory} (config {path.name})",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )
