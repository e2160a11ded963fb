"""The `sample` and `runs` commands over a test double of the engine (vLLM itself: test_sample_e2e.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from monkeys.cli import app
from monkeys.errors import MonkeysError
from monkeys.sampler.base import ENGINES
from monkeys.store import Run
from tests.fakes import FakeEngine


@pytest.fixture(autouse=True)
def fake_engine() -> None:
    ENGINES.add("fake", lambda model=None: FakeEngine())


def sample_args(run: Path, data_dir: str, k: int = 2, limit: int = 1) -> list[str]:
    return ["sample", "--task", "gsm8k", "-k", str(k), "--limit", str(limit), "--engine", "fake",
            "--run", str(run), "--data-dir", data_dir, "--model", "m"]  # fmt: skip


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_sample_then_runs_lists_progress(tmp_path: Path, data_dir: str) -> None:
    res = invoke(*sample_args(tmp_path / "runs" / "a", data_dir, k=6, limit=2), "--chunk-size", "4")
    assert res.exit_code == 0, res.output
    assert "12 samples stored (12 new" in res.output
    listing = invoke("runs", str(tmp_path / "runs"))
    assert "gsm8k" in listing.output and "12/12" in listing.output and "100%" in listing.output


def test_preset_paper_sets_appendix_a_settings(tmp_path: Path, data_dir: str) -> None:
    res = invoke(*sample_args(tmp_path / "p", data_dir), "--preset", "paper")
    assert res.exit_code == 0, res.output
    m = json.loads((tmp_path / "p" / "manifest.json").read_text())
    assert m["sampling"]["temperature"] == 0.6 and m["sampling"]["top_p"] == 1.0
    assert m["sampling"]["max_tokens"] == 512 and m["task"]["options"]["n_shot"] == 5


def test_explicit_option_overrides_preset(tmp_path: Path, data_dir: str) -> None:
    invoke(*sample_args(tmp_path / "p", data_dir), "--preset", "paper", "--max-tokens", "64")
    assert Run.open(tmp_path / "p").manifest["sampling"]["max_tokens"] == 64


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
    with pytest.raises(MonkeysError, match=message):
        invoke(*sample_args(tmp_path / "r", data_dir), *args)


def test_no_resume_refuses_existing_run(tmp_path: Path, data_dir: str) -> None:
    invoke(*sample_args(tmp_path / "r", data_dir))
    with pytest.raises(MonkeysError, match="--no-resume"):
        invoke(*sample_args(tmp_path / "r", data_dir), "--no-resume")


def test_runs_on_empty_folder(tmp_path: Path) -> None:
    assert "no runs under" in invoke("runs", str(tmp_path)).output
