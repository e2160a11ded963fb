"""The `solve` command and `fit-scaling` on its run, over the fake engine (vLLM itself: test_solve_e2e.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from monkeys.cli import app
from monkeys.sampler.base import ENGINES
from tests.fakes import FakeEngine
from tests.test_solve_loop import ANSWERS, expected_stop, write_problems


@pytest.fixture(autouse=True)
def fake_engine() -> None:
    ENGINES.add("fake", lambda model=None: FakeEngine())


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_solve_prints_stops_and_savings_and_fit_scaling_uses_the_stopping_estimator(tmp_path: Path) -> None:
    data = write_problems(tmp_path / "p.jsonl")
    run = str(tmp_path / "r")
    res = invoke("solve", "--task", "jsonl", "--data", data, "--engine", "fake", "--max-per-problem", "40",
                 "--in-flight", "1", "--run", run, "--model", "m")  # fmt: skip
    assert res.exit_code == 0, res.output
    for pid, answer in ANSWERS.items():
        stop, status = expected_stop(pid, answer, 1, 40)
        assert any(
            line.split("│")[1:6]
            and [c.strip() for c in line.split("│")[1:6]]
            == [pid, status, str(stop), str(stop - 1), str(stop - 1)]
            for line in res.output.splitlines()
        ), res.output
    total = sum(expected_stop(pid, a, 1, 40)[0] for pid, a in ANSWERS.items())
    assert f"{total} samples ({total} new)" in res.output
    assert f"{240 / total:.1f}x fewer samples than 40 per problem (240)" in res.output
    fit = invoke("fit-scaling", "--run", run, "--bootstrap", "10", "--json", str(tmp_path / "f.json"))
    assert fit.exit_code == 0, fit.output
    doc = json.loads((tmp_path / "f.json").read_text())["solve"]
    assert "(solve run, stopping time estimator)" in fit.output
    assert set(doc["fits"]) == {"power_law", "neg_log_power_law"}
    assert set(doc["coverage_ci"]) == set(doc["coverage"]) and doc["samples_read"] == sum(
        expected_stop(pid, a, 1, 40)[0] for pid, a in ANSWERS.items()
    )
    for name, law in doc["fits"].items():  # every law is printed, with its parameters or why it is not
        assert f"  {name}: " in fit.output and law["method"] == name
    stops = [expected_stop(pid, a, 1, 40)[0] for pid, a in ANSWERS.items()]
    for k in (1, 2, 5, 10):  # m = 1: pass@k estimate is [N <= k]
        assert doc["coverage"][str(k)] == pytest.approx(sum(n <= k for n in stops) / len(stops))
