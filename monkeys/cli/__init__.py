"""The `monkeys` command line: a thin typer app that parses, calls and prints.

One module per stage registers its commands on `app`: `sample` (sample, runs), `verify` (verify,
import), `analyse` (fit-scaling, select).

User mistakes arrive as MonkeysError and leave as one line on stderr with exit code 2.
"""

from __future__ import annotations

import sys

from rich.text import Text

from monkeys.cli import analyse, cost, lean, sample, score, show, solve, verify  # noqa: F401  (register the commands)
from monkeys.cli.app import app, console, err_console  # noqa: F401
from monkeys.errors import MonkeysError


def main() -> None:
    try:
        app()
    except MonkeysError as exc:
        err_console.print(Text.assemble(("error:", "bold red"), f" {exc}"), highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
