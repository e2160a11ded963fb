"""The typer app and the consoles every command module prints through."""

from __future__ import annotations

import sys

import typer
import typer.core
from rich.console import Console

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="Repeated sampling: sample, verify, fit scaling laws."
)
# Piped output (logs, tests, CI) keeps whole lines instead of rich's 80-column wrapping.
# markup=False: paths, names and error text are printed as given (rich would eat `[cpu]` in `monkeys[cpu]`).
console = Console(soft_wrap=True, markup=False, width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, soft_wrap=True, markup=False, width=None if sys.stderr.isatty() else 160)

_type_label = typer.core.TyperOption.display_type_rich


def _no_flag_type(self: typer.core.TyperOption, ctx: typer.Context) -> str | None:
    """Flags take no value, so their help shows no `<bool>` type (typer labels every option)."""
    return None if self.is_flag else _type_label(self, ctx)


typer.core.TyperOption.display_type_rich = _no_flag_type  # type: ignore[method-assign]
