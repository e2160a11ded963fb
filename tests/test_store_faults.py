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


# -- a run this user cannot write: one line, before any work (run as an ordinary user: root writes anything)
def as_user(args: list[str], data_dir: str, home: Path) -> subprocess.CompletedProcess[str]:
    from tests.test_sandbox_forgery import USER, ordinary_user

    prefix = ordinary_user()
    path = str(Path(__file__).resolve().parent.parent)
    python = sys.executable
    if prefix:
        import sysconfig

        python, path = "/usr/bin/python3", path + os.pathsep + sysconfig.get_paths()["purelib"]
    env = [
        f"PYTHONPATH={path}",
        f"MONKEYS_DATA_DIR={data_dir}",
        f"HOME={home}",
        f"MONKEYS_CACHE_DIR={home}/c",
    ]
    assert USER
    return subprocess.run(
        [*prefix, "env", *env, python, "-m", "monkeys.cli", *args], capture_output=True, text=True, cwd=home
    )


def test_unwritable_runs_and_json_paths_fail_in_one_line_before_any_work(
    tmp_path: Path, data_dir: str
) -> None:
    import shutil
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="monkeys-ro-"))
    try:
        base.chmod(0o755)
        home = base / "home"
        home.mkdir(mode=0o777)
        home.chmod(0o777)
        f = base / "s.jsonl"
        f.write_text("".join(json.dumps({"problem_id": "0", "text": f"#### {i}"}) + "\n" for i in range(5)))
        f.chmod(0o644)
        env = {**os.environ, "MONKEYS_DATA_DIR": data_dir, "MONKEYS_CACHE_DIR": str(base / "c")}
        run_dir = base / "run"
        assert cli(["import", "--run", str(run_dir), "--task", "gsm8k", str(f)], env).returncode == 0
        for p in [run_dir, *run_dir.rglob("*")]:
            p.chmod(0o755 if p.is_dir() else 0o644)  # readable, not writable, by others
        for args in (
            ["verify", "--run", str(run_dir), "--no-cache"],
            ["import", "--run", str(run_dir), str(f)],
            [
                "sample",
                "--task",
                "gsm8k",
                "--model",
                "/nonexistent-model",
                "-k",
                "1",
                "--run",
                str(run_dir / "new"),
            ],
        ):
            out = as_user(args, data_dir, home)
            assert out.returncode == 2, (args, out.stderr)
            lines = out.stderr.strip().splitlines()
            assert len(lines) == 1 and "cannot be written" in lines[0], (args, out.stderr)
        for p in [run_dir, *run_dir.rglob("*")]:
            p.chmod(0o777 if p.is_dir() else 0o666)
        out = as_user(
            ["verify", "--run", str(run_dir), "--no-cache", "--json", str(base / "x.json")], data_dir, home
        )
        assert out.returncode == 2 and "--json folder" in out.stderr.strip(), out.stderr
        assert len(Run.open(run_dir).verdicts("gsm8k")) == 0  # refused before any verdict was made
    finally:
        shutil.rmtree(base, ignore_errors=True)
