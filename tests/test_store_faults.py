"""A shard whose footer is intact but whose data pages are corrupt is set aside with its name, not fatal."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path

from monkeys.store import Run


def corrupt_data_pages(path: Path) -> None:
    raw = bytearray(path.read_bytes())
    (footer,) = struct.unpack("<I", raw[-8:-4])
    data_end = len(raw) - 8 - footer
    for i in range(4, data_end):
        raw[i] = 0xA5
    path.write_bytes(bytes(raw))


def cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monkeys.cli", *args], capture_output=True, text=True, env=env
    )


def test_verify_sets_aside_a_shard_with_corrupt_pages_and_redoes_its_rows(
    tmp_path: Path, data_dir: str
) -> None:
    env = {**os.environ, "MONKEYS_DATA_DIR": data_dir, "MONKEYS_CACHE_DIR": str(tmp_path / "cache")}
    f = tmp_path / "s.jsonl"
    f.write_text(
        "".join(json.dumps({"problem_id": str(i % 3), "text": f"#### {i}"}) + "\n" for i in range(30))
    )
    run_dir = tmp_path / "run"
    assert cli(["import", "--run", str(run_dir), "--task", "gsm8k", str(f)], env).returncode == 0
    assert cli(["verify", "--run", str(run_dir), "--no-cache"], env).returncode == 0
    shards = Run.open(run_dir).table("verdicts").shards()
    assert len(shards) == 1
    corrupt_data_pages(shards[0])
    again = cli(["verify", "--run", str(run_dir), "--no-cache"], env)
    assert again.returncode == 0, again.stderr
    assert shards[0].name in again.stderr and "Traceback" not in again.stderr
    assert "30 samples, 0 already verified, 30 verified now" in again.stdout
    assert shards[0].with_name(shards[0].name + ".corrupt").exists()
    v = Run.open(run_dir).verdicts("gsm8k")
    assert len(v) == 30 and not v.duplicated(["problem_id", "sample_index"]).any()
