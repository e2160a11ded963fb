"""End to end: sample with real vLLM and the embedded model, verify, then `monkeys cost` and `monkeys report`
read the recorded token counts, the embedded model's own config and the measured session time."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monkeys.analysis.model_config import ModelSize
from monkeys.store import Run
from tests.test_cost import token_by_token
from tests.test_sample_e2e import CLI, run_cli, sample_cmd

pytestmark = pytest.mark.e2e


def test_a_sampled_run_reports_flops_from_its_tokens_and_measured_cpu_seconds(tmp_path: Path, data_dir: str):
    run_dir = tmp_path / "r"
    run_cli(sample_cmd(run_dir, 4, data_dir))
    run_cli([*CLI, "verify", "--run", str(run_dir)])
    session = Run.open(run_dir).manifest["sessions"][0]
    assert session["samples"] == 8 and session["seconds"] > 0 and session["device"]["kind"] == "cpu"
    out = tmp_path / "cost.json"
    proc = run_cli([*CLI, "cost", "--run", str(run_dir), "--json", str(out)])
    doc = json.loads(out.read_text())
    r = doc["runs"]["r"]
    df = Run.open(run_dir).samples(["problem_id", "prompt_tokens", "completion_tokens"])
    size = ModelSize(134_515_008, 30, 576, "SmolLM2-135M")
    want = sum(
        token_by_token(int(g["prompt_tokens"].iloc[0]), g["completion_tokens"].tolist(), size, True)
        for _, g in df.groupby("problem_id")
    )
    assert r["axes"]["flops"]["total"] == pytest.approx(want, rel=1e-12)
    assert r["model_size"]["parameters"] == 134_515_008
    per = session["seconds"] * session["device"]["count"] / 8
    assert r["axes"]["seconds"]["per_sample"] == pytest.approx(per)
    assert "CPU core-seconds" in proc.stdout and "prefix sharing saves" in proc.stdout
    html = tmp_path / "r.html"
    run_cli([*CLI, "report", "--run", str(run_dir), "--out", str(html)])
    assert "embedded:smollm2-135m-instruct" in html.read_text()
