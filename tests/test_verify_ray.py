"""`monkeys verify --ray` on a real local Ray cluster gives the verdicts `monkeys verify` gives."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
CLI = [sys.executable, "-m", "monkeys.cli"]

# MATH test problems 0 (answer 2) and 1 (answer 10): equal, equivalent, wrong and missing answers
ANSWERS = [
    "\\boxed{2}",
    "\\boxed{10}",
    "\\boxed{\\frac{20}{2}}",
    "\\boxed{x}",
    "no answer",
    "\\boxed{\\sqrt{4}}",
]


def make_run(tmp_path: Path, data_dir: str, name: str) -> Path:
    rows = [{"problem_id": pid, "text": a} for pid in ("0", "1") for a in ANSWERS]
    f = tmp_path / f"{name}.jsonl"
    f.write_text("".join(json.dumps(r) + "\n" for r in rows))
    run = tmp_path / name
    made = subprocess.run(
        [*CLI, "import", str(f), "--run", str(run), "--task", "math", "--data-dir", data_dir],
        capture_output=True,
        text=True,
    )
    assert made.returncode == 0, made.stderr
    return run


def test_verify_on_ray_equals_local_verify(tmp_path: Path, data_dir: str) -> None:
    from monkeys.store import Run

    home = tmp_path / "home"  # Ray writes ~/.ray: keep it inside the test
    home.mkdir()
    env = {
        **os.environ,
        "HOME": str(home),
        "MONKEYS_CACHE_DIR": str(tmp_path / "cache"),
        "RAY_USAGE_STATS_ENABLED": "0",
    }
    local, on_ray = make_run(tmp_path, data_dir, "local"), make_run(tmp_path, data_dir, "ray")
    a = subprocess.run(
        [*CLI, "verify", "--run", str(local), "--no-cache"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert a.returncode == 0, a.stderr
    b = subprocess.run(
        [*CLI, "verify", "--run", str(on_ray), "--no-cache", "--ray", "local", "--workers", "2"],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    assert b.returncode == 0, b.stdout + b.stderr
    assert (
        "ray: 4 check batches ran as Ray tasks on the cluster at local (0 failed every try)"
    )  # canaries, then the rest in b.stdout
    cols = ["problem_id", "sample_index", "verdict", "answer"]
    va = Run.open(local).verdicts("math")[cols].sort_values(cols[:2]).reset_index(drop=True)
    vb = Run.open(on_ray).verdicts("math")[cols].sort_values(cols[:2]).reset_index(drop=True)
    assert len(va) == 12 and va.equals(vb)
    assert set(va["verdict"]) >= {"pass", "fail"}
