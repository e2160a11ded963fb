"""End to end through the real CLI: `monkeys import` of files made from GSM8K and MATH reference solutions,
`monkeys verify` on them, and a `monkeys verify` killed with SIGKILL and resumed."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from monkeys.store import Run

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def data_dir() -> Path:
    return Path(os.environ.get("MONKEYS_DATA_DIR", "/work/shared/data"))


def env(tmp_path: Path, data_dir: Path) -> dict[str, str]:
    return {**os.environ, "MONKEYS_DATA_DIR": str(data_dir), "MONKEYS_CACHE_DIR": str(tmp_path / "cache")}


def monkeys(args: list[str], e: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monkeys.cli", *args], env=e, capture_output=True, text=True, timeout=timeout
    )


def direct_coverage(run: Run, verifier: str, k: int) -> float:
    """pass@k by its definition, 1 - C(n-c, k) / C(n, k), averaged over problems."""
    from math import comb

    v = run.verdicts(verifier)
    per = v.assign(ok=v["verdict"] == "pass").groupby("problem_id")["ok"].agg(["size", "sum"])
    return float(
        np.mean([1 - comb(n - c, k) / comb(n, k) for n, c in zip(per["size"], per["sum"], strict=True)])
    )


def printed_coverage(stdout: str) -> dict[str, float]:
    return {k: float(c) for k, c in re.findall(r"^\s+k=(\d+)\s+([0-9.]+)", stdout, re.M)}


def test_import_and_verify_gsm8k_reference_solutions(tmp_path: Path, data_dir: Path) -> None:
    rows = [json.loads(x) for x in (data_dir / "gsm8k" / "test.jsonl").read_text().splitlines()]
    lines = []
    for i, r in enumerate(rows):
        final = r["answer"].rsplit("####", 1)[-1].strip()
        wrong = r["answer"].rsplit("####", 1)[0] + f"#### {int(final.replace(',', '')) + 1}"
        third = f"Adding it up, the answer is {final}." if i % 2 == 0 else "I am not sure."
        for text in (r["answer"], wrong, third):
            lines.append(json.dumps({"problem_id": str(i), "text": text}))
    f = tmp_path / "gsm8k.jsonl"
    f.write_text("\n".join(lines) + "\n")
    e = env(tmp_path, data_dir)
    imp = monkeys(["import", "--run", str(tmp_path / "run"), "--task", "gsm8k", str(f)], e)
    assert imp.returncode == 0, imp.stderr
    assert "imported 3957 samples" in imp.stdout
    out = tmp_path / "v.json"
    ver = monkeys(["verify", "--run", str(tmp_path / "run"), "--json", str(out)], e)
    assert ver.returncode == 0, ver.stderr
    result = json.loads(out.read_text())
    run = Run.open(tmp_path / "run")
    assert result["verifier"] == "gsm8k" and set(result["coverage"]) == {"1", "3"}
    assert result["verdicts"] == {"pass": 1319 + 660, "fail": 1319 + 659, "timeout": 0, "error": 0}
    for k in (1, 3):
        assert result["coverage"][str(k)] == pytest.approx(direct_coverage(run, "gsm8k", k), abs=1e-12)
        assert printed_coverage(ver.stdout)[str(k)] == pytest.approx(result["coverage"][str(k)], abs=5e-5)
    assert result["coverage"]["3"] == 1.0
    assert result["coverage"]["1"] == pytest.approx((660 * 2 / 3 + 659 / 3) / 1319)


def test_import_and_verify_math_reference_solutions(tmp_path: Path, data_dir: Path) -> None:
    rows = [json.loads(x) for x in (data_dir / "math" / "test.jsonl").read_text().splitlines()][:150]
    lines = []
    for i, r in enumerate(rows):
        lines.append(json.dumps({"problem_id": str(i), "text": r["solution"]}))
        lines.append(json.dumps({"problem_id": str(i), "text": "So we get $\\boxed{-\\frac{12345}{7}}$."}))
    f = tmp_path / "math.jsonl"
    f.write_text("\n".join(lines) + "\n")
    e = env(tmp_path, data_dir)
    assert monkeys(["import", "--run", str(tmp_path / "run"), "--task", "math", str(f)], e).returncode == 0
    ver = monkeys(["verify", "--run", str(tmp_path / "run"), "--json", str(tmp_path / "v.json")], e)
    assert ver.returncode == 0, ver.stderr
    result = json.loads((tmp_path / "v.json").read_text())
    assert result["verdicts"]["pass"] == 150 and result["verdicts"]["fail"] == 150
    run = Run.open(tmp_path / "run")
    assert result["coverage"]["1"] == pytest.approx(direct_coverage(run, "math", 1)) == pytest.approx(0.5)
    # a second verify of the same task in a new run needs no worker: what exact arithmetic does not settle in
    # the parent (and so was checked by SymPy the first time) comes from the cache
    assert monkeys(["import", "--run", str(tmp_path / "run2"), "--task", "math", str(f)], e).returncode == 0
    again = monkeys(["verify", "--run", str(tmp_path / "run2")], e)
    said = re.search(
        r"300 distinct answers, (\d+) of them from the cache, (\d+) settled exactly in-process;",
        again.stdout.replace("\n", " "),
    )
    assert said is not None, again.stdout
    cached, quick = map(int, said.groups())
    assert cached > 0 and quick > 0 and cached + quick == 300


def test_every_math_reference_solution_passes_its_own_reference(tmp_path: Path, data_dir: Path) -> None:
    """All 5,000 MATH test solutions, imported as samples, pass (and every gold canary passes)."""
    rows = [json.loads(x) for x in (data_dir / "math" / "test.jsonl").read_text().splitlines()]
    f = tmp_path / "math.jsonl"
    f.write_text(
        "".join(json.dumps({"problem_id": str(i), "text": r["solution"]}) + "\n" for i, r in enumerate(rows))
    )
    e = env(tmp_path, data_dir)
    assert monkeys(["import", "--run", str(tmp_path / "run"), "--task", "math", str(f)], e).returncode == 0
    ver = monkeys(
        ["verify", "--run", str(tmp_path / "run"), "--json", str(tmp_path / "v.json")], e, timeout=900
    )
    assert ver.returncode == 0, ver.stderr
    result = json.loads((tmp_path / "v.json").read_text())
    assert result["verdicts"] == {"pass": 5000, "fail": 0, "timeout": 0, "error": 0}


def test_killed_verify_resumes_without_losing_or_duplicating_verdicts(tmp_path: Path, data_dir: Path) -> None:
    # 1,600 distinct answers to MATH item 0 (reference 2), checked by a verifier paced at 20 ms a check: the
    # run lasts ~16 s on any machine, and the kill lands once the first verdicts are stored
    n = 1600
    texts = [f"so {2 * k}/{k}" if k % 2 == 0 else f"so {k}/{k + 1}" for k in range(1, n + 1)]
    f = tmp_path / "s.jsonl"
    f.write_text("".join(json.dumps({"problem_id": "0", "text": t}) + "\n" for t in texts))
    e = env(tmp_path, data_dir)
    run_dir = tmp_path / "run"
    assert monkeys(["import", "--run", str(run_dir), "--task", "math", str(f)], e).returncode == 0
    verify = ["verify", "--run", str(run_dir), "--workers", "2", "--verifier", "t-paced"]
    cli = "import tests.paced_verifier; from monkeys.cli import main; main()"
    proc = subprocess.Popen(
        [sys.executable, "-c", cli, *verify],
        env=e,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not Run.open(run_dir).table("verdicts").shards():
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # the orphaned fork server and workers, if still there
    run = Run.open(run_dir)
    before = run.verdicts("t-paced")
    assert 0 < len(before) < n, "the kill should land mid-run"
    again = subprocess.run(
        [sys.executable, "-c", cli, *verify], env=e, capture_output=True, text=True, timeout=300
    )
    assert again.returncode == 0, again.stderr
    assert (
        f"{n} samples, {len(before)} already verified, {n - len(before)} verified now"
        in again.stdout.replace("\n", " ")
    )
    after = run.verdicts("t-paced")
    assert len(after) == n and not after.duplicated(["problem_id", "sample_index"]).any()
    assert (after["verdict"] == "pass").sum() == n // 2 and (after["verdict"] == "fail").sum() == n // 2
    merged = before.merge(after, on=["problem_id", "sample_index"], suffixes=("_before", "_after"))
    assert len(merged) == len(before) and (merged["verdict_before"] == merged["verdict_after"]).all()


def test_cli_errors_are_one_line(tmp_path: Path, data_dir: Path) -> None:
    e = env(tmp_path, data_dir)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"problem_id": "0", "text": "a"}\n{oops\n')
    r = monkeys(["import", "--run", str(tmp_path / "run"), "--task", "gsm8k", str(bad)], e)
    assert r.returncode == 2 and "line 2: not valid JSON" in r.stderr and "--skip-bad" in r.stderr
    r = monkeys(["verify", "--run", str(tmp_path / "nope")], e)
    assert r.returncode == 2 and "is not a run directory" in r.stderr


def test_sample_with_embedded_model_then_verify_prints_coverage_of_the_verdicts(
    tmp_path: Path, data_dir: Path
) -> None:
    """`monkeys sample` (vLLM, embedded SmolLM2) → `monkeys verify`: the coverage printed and written is the
    unbiased pass@k computed straight from the stored verdicts."""
    e = env(tmp_path, data_dir)
    run_dir = tmp_path / "run"
    sample = monkeys(
        [
            "sample",
            "--task",
            "gsm8k",
            "-k",
            "8",
            "--limit",
            "2",
            "--chunk-size",
            "4",
            "--max-tokens",
            "96",
            "--run",
            str(run_dir),
            "--data-dir",
            str(data_dir),
        ],
        e,
        timeout=1200,
    )
    assert sample.returncode == 0, sample.stderr[-3000:]
    ver = monkeys(["verify", "--run", str(run_dir), "--json", str(tmp_path / "v.json")], e)
    assert ver.returncode == 0, ver.stderr
    result = json.loads((tmp_path / "v.json").read_text())
    run = Run.open(run_dir)
    v = run.verdicts("gsm8k")
    assert len(v) == 16 and set(v["problem_id"]) == {"0", "1"}
    assert sum(result["verdicts"].values()) == 16
    assert set(result["coverage"]) == {"1", "8"}
    printed = printed_coverage(ver.stdout)
    for k in (1, 8):
        direct = direct_coverage(run, "gsm8k", k)
        assert result["coverage"][str(k)] == pytest.approx(direct, abs=1e-12)
        assert printed[str(k)] == pytest.approx(direct, abs=5e-5)
    # every verdict's answer is what the verifier extracts from the stored text
    from monkeys.verifiers.answer.gsm8k import extract_number

    texts = run.samples().set_index(["problem_id", "sample_index"])["text"]
    for row in v.itertuples():
        answer = None if pd.isna(row.answer) else row.answer
        assert answer == extract_number(texts[(row.problem_id, row.sample_index)])
