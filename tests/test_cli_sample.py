"""The `sample` and `runs` commands over a test double of the engine (vLLM itself: test_sample_e2e.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monkeys.cli import app
from monkeys.sampler.base import ENGINES
from monkeys.store import Run
from tests.fakes import FakeEngine


@pytest.fixture(autouse=True)
def fake_engine() -> None:
    ENGINES.add("fake", lambda model=None: FakeEngine())


def invoke(*args: str) -> object:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_sample_then_runs_lists_progress(tmp_path: Path, data_dir: str) -> None:
    run = tmp_path / "runs" / "a"
    res = invoke(
        "sample",
        "--task",
        "gsm8k",
        "-k",
        "6",
        "--limit",
        "2",
        "--engine",
        "fake",
        "--run",
        str(run),
        "--data-dir",
        data_dir,
        "--chunk-size",
        "4",
        "--model",
        "m",
    )
    assert res.exit_code == 0, res.output
    assert "12 samples stored (12 new" in res.output
    listing = invoke("runs", str(tmp_path / "runs"))
    assert "gsm8k" in listing.output and "12/12" in listing.output and "100%" in listing.output


def test_preset_paper_sets_appendix_a_settings(tmp_path: Path, data_dir: str) -> None:
    run = tmp_path / "p"
    res = invoke(
        "sample",
        "--task",
        "gsm8k",
        "-k",
        "2",
        "--limit",
        "1",
        "--engine",
        "fake",
        "--run",
        str(run),
        "--data-dir",
        data_dir,
        "--preset",
        "paper",
        "--model",
        "m",
    )
    assert res.exit_code == 0, res.output
    m = json.loads((run / "manifest.json").read_text())
    assert m["sampling"]["temperature"] == 0.6 and m["sampling"]["top_p"] == 1.0
    assert m["sampling"]["max_tokens"] == 512 and m["task"]["options"]["n_shot"] == 5


def test_explicit_option_overrides_preset(tmp_path: Path, data_dir: str) -> None:
    run = tmp_path / "p"
    invoke(
        "sample",
        "--task",
        "gsm8k",
        "-k",
        "2",
        "--limit",
        "1",
        "--engine",
        "fake",
        "--run",
        str(run),
        "--data-dir",
        data_dir,
        "--preset",
        "paper",
        "--max-tokens",
        "64",
        "--model",
        "m",
    )
    assert Run.open(run).manifest["sampling"]["max_tokens"] == 64


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--preset", "nope"], "unknown preset 'nope'"),
        (["--engine", "nope"], "unknown engine 'nope'"),
        (["--temperature", "-1"], "need --temperature >= 0"),
        (["--top-p", "0"], "0 < --top-p <= 1"),
        (["--chunk-size", "0"], "--chunk-size must be at least 1"),
    ],
)
def test_bad_options_are_one_line_errors(
    tmp_path: Path, data_dir: str, args: list[str], message: str
) -> None:
    from monkeys.errors import MonkeysError

    with pytest.raises(MonkeysError, match=message):
        CliRunner().invoke(
            app,
            [
                "sample",
                "--task",
                "gsm8k",
                "-k",
                "2",
                "--limit",
                "1",
                "--engine",
                "fake",
                "--run",
                str(tmp_path / "r"),
                "--data-dir",
                data_dir,
                *args,
            ],
            catch_exceptions=False,
        )


def test_no_resume_refuses_existing_run(tmp_path: Path, data_dir: str) -> None:
    from monkeys.errors import MonkeysError

    base = [
        "sample",
        "--task",
        "gsm8k",
        "-k",
        "2",
        "--limit",
        "1",
        "--engine",
        "fake",
        "--run",
        str(tmp_path / "r"),
        "--data-dir",
        data_dir,
        "--model",
        "m",
    ]
    invoke(*base)
    with pytest.raises(MonkeysError, match="--no-resume"):
        invoke(*base, "--no-resume")


def test_runs_on_empty_folder(tmp_path: Path) -> None:
    assert "no runs under" in invoke("runs", str(tmp_path)).output
