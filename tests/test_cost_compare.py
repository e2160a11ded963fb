"""Comparisons on synthetic runs: the cheapest run for a target, crossovers, bad input, `monkeys cost`."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from monkeys.analysis.compare import compare
from monkeys.analysis.cost import Axis, RunCost, samples_axis
from monkeys.analysis.coverage import coverage
from monkeys.analysis.outcomes import Counts
from monkeys.cli import app
from monkeys.errors import MonkeysError
from tests.cost_runs import make_run

PROBLEMS = 40


def synthetic(name: str, n: int, c: np.ndarray, per_sample: float, task: str = "gsm8k") -> RunCost:
    """A run whose every sample costs `per_sample` dollars (no prefix), with the given correct counts."""
    m = len(c)
    counts = Counts(name, np.array([str(i) for i in range(m)]), np.full(m, n), np.asarray(c, dtype=np.int64))
    dollars = Axis("dollars", "dollars", np.zeros(m), np.full(m, per_sample))
    return RunCost(name, task, name, counts, {"samples": samples_axis(counts), "dollars": dollars})


@pytest.fixture
def two_runs() -> list[RunCost]:
    # cheap: every problem solvable but rarely (1 in 100), $1 a sample.
    # dear: half the problems solved half the time, the other half never; $10 a sample.
    cheap = synthetic("cheap", 1000, np.full(PROBLEMS, 10), 1.0)
    dear = synthetic("dear", 1000, np.r_[np.full(PROBLEMS // 2, 500), np.zeros(PROBLEMS // 2)], 10.0)
    return [cheap, dear]


def test_cheapest_run_and_its_k_for_a_measured_target(two_runs):
    doc, _ = compare(two_runs, ["samples", "dollars"], target=0.4, reps=50)
    t = doc["target"]
    every = np.arange(1, 1001)
    for run in two_runs:
        cov = coverage(run.counts.n, run.counts.c, every)
        k = int(every[np.argmax(cov >= 0.4)])
        got = t["runs"][run.name]
        assert got["k"] == k and not got["extrapolated"]
        per = float(run.axes["dollars"].marginal[0])
        assert got["cost"]["dollars"]["value"] == pytest.approx(k * per * PROBLEMS)
    # dear needs k=3 ($1200: 0.5 * (1 - 0.5^3) = 0.44), cheap about k=51 ($2040): dear is cheaper on both
    assert t["runs"]["dear"]["k"] == 3 and t["cheapest"] == {"samples": "dear", "dollars": "dear"}


def test_crossover_where_the_cheap_run_overtakes_the_dear_one(two_runs):
    doc, curves = compare(two_runs, ["dollars"], reps=20)
    (x,) = [c for c in doc["crossovers"] if c["axis"] == "dollars"]
    assert x["cheaper_above"] == "cheap" and not x["extrapolated"]
    cheap, dear = curves
    at = x["cost"]
    below, above = at * 0.9, at * 1.1
    for cost, ahead in ((below, "dear"), (above, "cheap")):
        ca = cheap.at_k(cheap.run.axes["dollars"].k_at(cost))[0][0]
        cd = dear.at_k(dear.run.axes["dollars"].k_at(cost))[0][0]
        assert (ca > cd) == (ahead == "cheap")
    assert x["k"]["cheap"] == pytest.approx(10 * x["k"]["dear"])


def test_a_target_beyond_the_samples_drawn_is_extrapolated_with_an_interval():
    run = synthetic("few", 20, np.r_[np.zeros(10), np.full(15, 1), np.full(15, 3)], 1.0)  # 75% at k=20
    doc, curves = compare([run], ["samples"], target=0.95, reps=100)
    t = doc["target"]["runs"]["few"]
    assert t["extrapolated"] and t["law"] == "power_law" and t["k"] > 20
    assert t["k_low"] <= t["k"] <= (t["k_high"] or np.inf)
    fit = curves[0].fit
    assert fit.predict([t["k"]])[0] >= 0.95 > fit.predict([t["k"] * 0.99])[0]


def test_unreachable_target_different_tasks_and_problem_sets_are_one_line_errors(two_runs):
    never = synthetic("never", 10, np.zeros(PROBLEMS), 1.0)
    with pytest.raises(
        MonkeysError, match=r"no run reaches coverage 0.5, even extrapolated.*lower --target-coverage"
    ):
        compare([never], ["samples"], target=0.5, reps=10)
    other = synthetic("math", 1000, np.full(PROBLEMS, 10), 1.0, task="math")
    with pytest.raises(MonkeysError, match=r"different tasks \(gsm8k, math\)"):
        compare([two_runs[0], other], reps=10)
    fewer = synthetic("fewer", 1000, np.full(PROBLEMS - 10, 10), 1.0)
    with pytest.raises(MonkeysError, match="different problem sets .* 30 shared.*--shared-problems"):
        compare([two_runs[1], fewer], reps=10)
    doc, _ = compare([two_runs[1], fewer], reps=10, shared_problems=True)
    assert doc["runs"]["dear"]["problems"] == 30 and doc["runs"]["fewer"]["problems"] == 30


def test_cost_command_writes_every_number_and_prints_the_cheapest(tmp_path):
    rng = np.random.default_rng(0)
    sessions = [{"seconds": 2.0, "samples": 80, "device": {"kind": "gpu", "count": 1, "name": "A100"}}]
    specs = {}
    for name, p_ok, model in (("small", 0.15, "s"), ("large", 0.5, "l")):
        problems = {
            str(i): {
                "prompt_tokens": 50,
                "tokens": [int(t) for t in rng.integers(10, 40, 8)],
                "passed": [bool(v) for v in rng.random(8) < p_ok],
            }
            for i in range(10)
        }
        specs[name] = make_run(tmp_path / name, problems, model=model, sessions=sessions)
    prices = tmp_path / "prices.yaml"
    prices.write_text(
        "s: {input: 0.1, output: 0.2, parameters: 1.0e9, layers: 16, width: 2048}\n"
        "l: {input: 3.0, output: 15.0, parameters: 7.0e10, layers: 80, width: 8192}\n"
    )
    out = tmp_path / "cost.json"
    png = tmp_path / "cost.png"
    args = ["cost", "--run", str(specs["small"]), "--run", str(specs["large"]), "--prices", str(prices)]
    res = CliRunner().invoke(app, [*args, "--target-coverage", "0.6", "--json", str(out), "--plot", str(png)])
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text())
    assert doc["axes"] == ["samples", "flops", "seconds", "dollars"]
    assert set(doc["target"]["cheapest"]) == set(doc["axes"])
    assert f"cheapest by dollars: {doc['target']['cheapest']['dollars']}" in res.output
    assert png.stat().st_size > 10_000
    res = CliRunner().invoke(app, [*args[:5], "--axis", "dollars"])
    assert res.exit_code != 0 and "dollars need a price file" in str(res.exception)
