"""Plugins from outside the repo: tests/plugin_pkg registers a task, a verifier and an engine through entry
points; the CLI uses them by name, with their own -T/-V/-E options typed by their signatures."""

from __future__ import annotations

import importlib.metadata
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from monkeys.cli import app
from monkeys.errors import MonkeysError, PluginError, RunMismatchError, UsageError
from monkeys.registry import Registry
from monkeys.sampler.base import ENGINES
from monkeys.store import Run
from monkeys.tasks import TASKS
from monkeys.verifiers.base import VERIFIERS

INSTALL = "bash dev.sh setup (or: pip install --no-build-isolation -e tests/plugin_pkg)"


@pytest.fixture(scope="module", autouse=True)
def plugin_installed() -> None:
    if not importlib.metadata.entry_points(group="monkeys.tasks", name="echo-task"):
        pytest.fail(f"the test plugin package is not installed; run {INSTALL}")


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def sample_echo(run: Path, *extra: str) -> Any:
    return invoke(
        "sample", "--task", "echo-task", "-k", "4", "--engine", "echo-engine", "--run", str(run), *extra
    )


def test_installed_plugins_are_listed_and_built_by_name() -> None:
    assert "echo-task" in TASKS.names() and "echo-checker" in VERIFIERS.names()
    assert "echo-engine" in ENGINES
    assert TASKS.create("echo-task", n=2).default_verifier == "echo-checker"


def test_sample_and_verify_a_plugin_task_with_plugin_options(tmp_path: Path) -> None:
    run = tmp_path / "r"
    res = sample_echo(run, "-T", "n=2", "-T", "word=tell", "-E", "wrong=zzz")
    assert res.exit_code == 0, res.output
    m = Run.open(run).manifest
    assert m["task"]["plugin_options"] == {"n": 2, "word": "tell"}
    assert m["engine"]["options"] == {"wrong": "zzz"} and m["engine"]["wrong"] == "zzz"
    samples = Run.open(run).samples()
    assert len(samples) == 8 and set(samples["text"]) == {"it is 0", "it is 1", "it is zzz"}
    # resuming with other plugin options is refused, naming the option
    with pytest.raises(RunMismatchError, match="task.plugin_options.n was 2, the command asks for 3"):
        sample_echo(run, "-T", "n=3", "-T", "word=tell", "-E", "wrong=zzz")

    resumed = sample_echo(run, "-k", "6", "-T", "n=2", "-T", "word=tell", "-E", "wrong=zzz")
    assert "12 samples stored (4 new" in resumed.output, resumed.output  # the same options resume
    with pytest.raises(RunMismatchError, match="engine.options.wrong was 'zzz', the command asks for 'yyy'"):
        sample_echo(run, "-T", "n=2", "-T", "word=tell", "-E", "wrong=yyy")
    out = invoke("verify", "--run", str(run))
    assert "verify echo-checker v1: 12 samples, 0 already verified, 12 verified now" in out.output
    with pytest.raises(RunMismatchError, match="strict=False.*pass -V strict=False to resume"):
        invoke("verify", "--run", str(run), "-V", "strict=true")
    again = invoke(
        "verify", "--run", str(run), "-V", "strict=true", "--regrade", "--json", str(tmp_path / "v.json")
    )
    assert "0 already verified, 12 verified now" in again.output
    v = Run.open(run).verdicts("echo-checker")
    assert set(v["verifier_options"]) == {'{"strict":true}'}
    assert json.loads((tmp_path / "v.json").read_text())["samples"] == 12


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        (["-T", "bogus=1"], UsageError, "task 'echo-task' has no option 'bogus'; it takes: n, word"),
        (["-T", "n=two"], UsageError, "-T n='two' must be an integer"),
        (["-T", "n"], UsageError, "is not key=value"),
        (["-E", "wrong"], UsageError, "is not key=value"),
        (
            ["-E", "colour=red"],
            UsageError,
            "engine 'echo-engine' has no option 'colour'; it takes: model, wrong",
        ),
    ],
)
def test_bad_plugin_options_are_one_line_errors(
    tmp_path: Path, args: list[str], error: type[MonkeysError], message: str
) -> None:
    with pytest.raises(error, match=message):
        sample_echo(tmp_path / "r", *args)


def test_unknown_verifier_option_is_refused(tmp_path: Path) -> None:
    sample_echo(tmp_path / "r")
    with pytest.raises(UsageError, match="verifier 'echo-checker' has no option 'loose'; it takes: strict"):
        invoke("verify", "--run", str(tmp_path / "r"), "-V", "loose=1")


def test_broken_or_foreign_plugins_are_plugin_errors() -> None:
    reg: Registry[object] = Registry("widget", group="monkeys.tasks", base=dict)
    with pytest.raises(PluginError, match="echo-task' built a EchoTask, which is not a builtins.dict"):
        reg.create("echo-task")
    with pytest.raises(PluginError, match="unknown widget 'nope'; choose one of: .*echo-task"):
        reg.factory("nope")
