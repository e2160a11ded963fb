"""The `monkeys` command line: a thin typer app that parses, calls and prints.

User mistakes arrive as MonkeysError and leave as one line on stderr with exit code 2.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from monkeys.errors import MonkeysError

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Repeated sampling: sample, verify, fit scaling laws.")
console = Console()
err_console = Console(stderr=True)


# == sample / runs (spine) ==============================================================================


# == verify / import ====================================================================================


# == fit-scaling / select ===============================================================================


def main() -> None:
    try:
        app()
    except MonkeysError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
