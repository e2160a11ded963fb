"""`monkeys solve` end to end: the embedded SmolLM2 through real vLLM, GSM8K verified in the loop, then
`fit-scaling` on the run with the stopping-time estimator."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from monkeys.analysis.solve_runs import run_stops
from monkeys.sampler.embedded import model_dir
from monkeys.sampler.local_server import LocalServer
from monkeys.store import Run

pytestmark = pytest.mark.e2e

CLI = [sys.executable, "-m", "monkeys.cli"]


def run_cli(
    cmd: list[str], timeout: float = 900, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def test_solve_three_gsm8k_problems_then_fit_scaling(tmp_path: Path, data_dir: str) -> None:
    run_dir = tmp_path / "solve"
    cmd = [
        *CLI, "solve", "--task", "gsm8k", "--limit", "3", "--max-per-problem", "16", "--max-tokens", "100",
        "--n-shot", "2", "--in-flight", "8", "--run", str(run_dir), "--data-dir", data_dir,
    ]  # fmt: skip
    proc = run_cli(cmd)
    run = Run.open(run_dir)
    samples = run.samples(["problem_id", "sample_index", "seed", "text"])
    verdicts = run.verdicts("gsm8k")
    assert len(samples) == len(verdicts) > 0  # every drawn sample was verified in the loop
    assert run.manifest["solve"] == {
        "max_per_problem": 16, "stop": "pass", "successes": 1, "count": "distinct", "verifier": "gsm8k",
        "verifier_version": run.manifest["solve"]["verifier_version"],
    }  # fmt: skip
    stops = run_stops(run)
    by_pid = samples.groupby("problem_id")
    for pid, n, s, hit in zip(stops.problems, stops.n, stops.s, stops.stopped, strict=True):
        g = verdicts[verdicts.problem_id == pid].sort_values("sample_index")
        passes = g.index[g["verdict"] == "pass"]
        if hit:  # stopped at its first pass: every earlier sample failed
            assert (
                s == 1 and g["verdict"].iloc[n - 1] == "pass" and (g["verdict"].iloc[: n - 1] != "pass").all()
            )
        else:
            assert n == 16 and len(passes) == 0 and len(by_pid.get_group(pid)) == 16
        assert sorted(by_pid.get_group(pid)["sample_index"]) == list(range(len(by_pid.get_group(pid))))
    assert "fewer samples than 16 per problem" in proc.stdout
    assert "coverage (stopping-time estimate)" in proc.stdout
    # rerunning the finished solve draws nothing and reports the same stops
    again = run_cli(cmd)
    assert "(0 new)" in again.stdout
    fit = run_cli(
        [*CLI, "fit-scaling", "--run", str(run_dir), "--bootstrap", "20", "--json", str(tmp_path / "f.json")]
    )
    assert "solve run, stopping time estimator" in fit.stdout
    doc = json.loads((tmp_path / "f.json").read_text())["solve"]
    assert doc["problems"] == 3 and doc["max_k"] == 16
    expected_k1 = (
        sum((1.0 if (hit and n == 1) else 0.0) for n, hit in zip(stops.n, stops.stopped, strict=True)) / 3
    )
    assert doc["coverage"]["1"] == pytest.approx(expected_k1)


def test_solve_through_a_real_openai_server(
    tmp_path: Path, data_dir: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`solve --engine openai --base-url`: the lazy request stream (chunks that wait on verdicts) through
    the openai engine against a real vLLM OpenAI server, verified in the loop, stops read in index order."""
    monkeypatch.setenv("MONKEYS_CPU_KV_CACHE_GIB", "0.5")
    run_dir = tmp_path / "solve"
    with LocalServer(str(model_dir()), None, tmp_path / "server.log") as server:
        cmd = [
            *CLI, "solve", "--task", "gsm8k", "--limit", "2", "--max-per-problem", "8", "--max-tokens", "48",
            "--n-shot", "2", "--in-flight", "6", "--run", str(run_dir), "--data-dir", data_dir,
            "--engine", "openai", "--base-url", server.base_url, "--concurrency", "4",
        ]  # fmt: skip
        proc = run_cli(cmd)
    run = Run.open(run_dir)
    assert run.manifest["engine"]["name"] == "openai"
    samples = run.samples(["problem_id", "sample_index", "seed", "completion_tokens"])
    verdicts = run.verdicts("gsm8k")
    assert len(samples) == len(verdicts) > 0 and samples["completion_tokens"].notna().all()
    stops = run_stops(run)
    for pid, n, hit in zip(stops.problems, stops.n, stops.stopped, strict=True):
        g = verdicts[verdicts.problem_id == pid].sort_values("sample_index")
        assert g["sample_index"].tolist() == list(range(len(g)))  # no gaps: every index drawn and graded
        if hit:
            assert g["verdict"].iloc[n - 1] == "pass" and (g["verdict"].iloc[: n - 1] != "pass").all()
        else:
            assert n == 8 and len(g) == 8 and (g["verdict"] != "pass").all()
    assert "fewer samples than 8 per problem" in proc.stdout
