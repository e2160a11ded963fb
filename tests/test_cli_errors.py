"""User errors leave the CLI as one line, printed as written (no rich markup eats brackets)."""

from __future__ import annotations

import pytest

import monkeys.cli as cli
from monkeys.errors import MonkeysError


def test_an_error_with_brackets_prints_them(monkeypatch, capsys) -> None:
    def fails() -> None:
        raise MonkeysError("vLLM is not installed; pip install 'monkeys[cpu]' (CPU) or 'monkeys[gpu]' (GPU)")

    monkeypatch.setattr(cli, "app", fails)
    with pytest.raises(SystemExit) as exit_:
        cli.main()
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [
        "error: vLLM is not installed; pip install 'monkeys[cpu]' (CPU) or 'monkeys[gpu]' (GPU)"
    ]


def test_printed_names_keep_their_brackets(capsys) -> None:
    from monkeys.cli.app import console

    console.print("runs/[bold]x[/]: 3 samples")
    assert capsys.readouterr().out.strip() == "runs/[bold]x[/]: 3 samples"
