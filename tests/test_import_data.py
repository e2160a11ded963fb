"""`monkeys import --task jsonl --data problems.jsonl`: samples made elsewhere for the user's own problems."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from monkeys.cli import app
from monkeys.errors import MonkeysError
from monkeys.store import Run
from monkeys.verifiers.stage.runner import verify_run


def _write(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_import_with_data_creates_a_jsonl_run_whose_samples_verify(tmp_path: Path) -> None:
    problems = _write(
        tmp_path / "problems.jsonl",
        [
            {"id": "half", "prompt": "What is 1/2 as a fraction?", "answer": "\\frac{1}{2}"},
            {"id": "seven", "prompt": "What is 3+4?", "answer": "7"},
        ],
    )
    samples = _write(
        tmp_path / "samples.jsonl",
        [
            {"problem_id": "half", "text": "So it is $\\boxed{\\dfrac12}$."},
            {"problem_id": "half", "text": "So it is $\\boxed{0.4}$."},
            {"problem_id": "seven", "text": "The sum is $\\boxed{7}$."},
        ],
    )
    run_dir = tmp_path / "run"
    cli = ["import", "--run", str(run_dir), "--task", "jsonl", "--data", str(problems), str(samples)]
    result = CliRunner().invoke(app, cli)
    assert result.exit_code == 0, result.output
    assert "imported 3 samples for 2 problems" in result.output
    run = Run.open(run_dir)
    assert run.manifest["task"]["name"] == "jsonl"
    assert run.manifest["task"]["default_verifier"] == "math"
    assert run.manifest["task"]["options"]["data_file"] == str(problems.resolve())
    assert sorted(run.problem_ids()) == ["half", "seven"]
    verify_run(run, workers=1)
    v = run.table("verdicts").read(["problem_id", "sample_index", "verdict"]).to_pylist()
    got = sorted((r["problem_id"], r["sample_index"], r["verdict"]) for r in v)
    assert got == [("half", 0, "pass"), ("half", 1, "fail"), ("seven", 0, "pass")]


def test_import_of_a_jsonl_run_without_data_says_to_pass_it(tmp_path: Path) -> None:
    samples = _write(tmp_path / "samples.jsonl", [{"problem_id": "a", "text": "\\boxed{1}"}])
    cli = ["import", "--run", str(tmp_path / "run"), "--task", "jsonl", str(samples)]
    result = CliRunner().invoke(app, cli)
    assert isinstance(result.exception, MonkeysError)
    assert "--data problems.jsonl" in str(result.exception)
    assert not Run.exists(tmp_path / "run")


def test_import_with_data_rejects_samples_of_problems_not_in_the_file(tmp_path: Path) -> None:
    problems = _write(tmp_path / "p.jsonl", [{"id": "a", "prompt": "?", "answer": "1"}])
    samples = _write(tmp_path / "s.jsonl", [{"problem_id": "b", "text": "\\boxed{1}"}])
    cli = ["import", "--run", str(tmp_path / "run"), "--task", "jsonl", "--data", str(problems), str(samples)]
    result = CliRunner().invoke(app, cli)
    assert isinstance(result.exception, MonkeysError)
    assert "problem_id 'b' is not in task jsonl" in str(result.exception)
