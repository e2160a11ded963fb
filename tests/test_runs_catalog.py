"""`monkeys runs` counts done samples against k: extras imported into a sampled run do not lower it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from monkeys.sampler.loop import SampleConfig, sample
from monkeys.store import Run
from monkeys.store.catalog import find_runs
from monkeys.tasks import TaskOptions
from tests.fakes import FakeEngine


def test_importing_reference_samples_into_a_sampled_run_keeps_it_done(tmp_path: Path, data_dir: str) -> None:
    cfg = SampleConfig(
        "gsm8k", TaskOptions(data_dir=data_dir, limit=12), "fake", 3, chunk_size=3, engine="fake"
    )
    sample(str(tmp_path / "r"), cfg, FakeEngine)
    f = tmp_path / "refs.jsonl"
    f.write_text("".join(json.dumps({"problem_id": str(i), "text": "#### 1"}) + "\n" for i in range(3)))
    proc = subprocess.run(
        [sys.executable, "-m", "monkeys.cli", "import", str(f), "--run", str(tmp_path / "r")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert Run.open(tmp_path / "r").manifest["k"] == 3
    [row] = find_runs(tmp_path)
    assert (row.samples, row.done, row.target) == (39, 36, 36)
    shown = subprocess.run(
        [sys.executable, "-m", "monkeys.cli", "runs", str(tmp_path)], capture_output=True, text=True
    )
    assert "36/36 (+3)" in shown.stdout and "100%" in shown.stdout
