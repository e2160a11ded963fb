"""A missing sandbox is one line saying what to install or start, not a verifier failing its canaries."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from monkeys.errors import MonkeysError
from monkeys.verifiers.sandbox.preflight import preflight

CLI = [sys.executable, "-m", "monkeys.cli"]


def test_missing_bubblewrap_names_the_package(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no bwrap on this PATH
    with pytest.raises(MonkeysError, match=r"apt-get install bubblewrap"):
        preflight("bwrap")


def test_no_docker_engine_says_how_to_start_one(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    pytest.importorskip("docker")
    monkeypatch.setenv("MONKEYS_DOCKER_HOST", f"unix://{tmp_path}/no-such.sock")
    with pytest.raises(MonkeysError, match=r"none answers on .*no-such.sock: start one") as info:
        preflight("docker")
    assert "sandbox.sh setup" in str(info.value)


@pytest.mark.e2e
def test_verify_without_bubblewrap_prints_one_line_and_stores_nothing(tmp_path: Path, data_dir: str) -> None:
    samples = tmp_path / "samples.jsonl"
    samples.write_text(
        "".join(
            json.dumps({"problem_id": "HumanEval/0", "text": "    return False\n"}) + "\n" for _ in range(2)
        )
    )
    run = tmp_path / "r"
    env = {**os.environ, "MONKEYS_CACHE_DIR": str(tmp_path / "cache")}
    made = subprocess.run(
        [*CLI, "import", str(samples), "--run", str(run), "--task", "humaneval", "--data-dir", data_dir],
        capture_output=True,
        text=True,
        env=env,
    )
    assert made.returncode == 0, made.stderr
    proc = subprocess.run(
        [*CLI, "verify", "--run", str(run)],
        capture_output=True,
        text=True,
        env={**env, "PATH": str(tmp_path)},  # bwrap cannot be found
        timeout=300,
    )
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "apt-get install bubblewrap" in lines[0], proc.stderr
    assert "canaries" not in proc.stderr and "Traceback" not in proc.stderr
    assert not (run / "verdicts").exists() or not list((run / "verdicts").glob("*.parquet"))
