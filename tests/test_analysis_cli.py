"""`monkeys fit-scaling` and `monkeys select` through the CLI, on the real outcomes table and a real run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from monkeys.analysis.coverage import coverage
from monkeys.cli import app
from monkeys.errors import MonkeysError
from monkeys.store import Run
from monkeys.store.schema import SAMPLES, VERDICTS

runner = CliRunner()


@pytest.fixture(scope="module")
def outcomes_csv() -> Path:
    path = Path(os.environ.get("MONKEYS_DATA_DIR", "/work/shared/data")) / "monkey_business" / "outcomes.csv"
    if not path.is_file():
        pytest.skip(f"{path} not present; set MONKEYS_DATA_DIR")
    return path


def test_fit_scaling_on_the_outcomes_table_writes_the_json_contract(outcomes_csv, tmp_path):
    out, csv, png = tmp_path / "fit.json", tmp_path / "fit.csv", tmp_path / "fit.png"
    args = ["fit-scaling", "--outcomes", str(outcomes_csv), "--config", "MATH_Pythia-1B"]
    args += [
        "--config",
        "GSM8K_Llama-3-8B-Instruct",
        "--json",
        str(out),
        "--csv",
        str(csv),
        "--plot",
        str(png),
    ]
    res = runner.invoke(app, [*args, "--bootstrap", "50"])
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text())
    assert set(doc["configs"]) == {"MATH_Pythia-1B", "GSM8K_Llama-3-8B-Instruct"}
    cfg = doc["configs"]["MATH_Pythia-1B"]
    table = pd.read_csv(outcomes_csv)
    rows = table[table["config"] == "MATH_Pythia-1B"]
    assert cfg["problems"] == 128 and cfg["samples_per_problem"] == 10_000
    assert cfg["coverage"]["1"] == pytest.approx((rows["num_correct"] / rows["num_samples"]).mean())
    assert cfg["coverage"]["10000"] == pytest.approx((rows["num_correct"] > 0).mean())
    assert list(cfg["coverage"]) == [
        "1",
        "2",
        "5",
        "10",
        "20",
        "50",
        "100",
        "200",
        "500",
        "1000",
        "2000",
        "5000",
        "10000",
    ]
    for method, keys in {
        "power_law": ("a", "b"),
        "neg_log_power_law": ("A", "B"),
        "distributional": ("alpha", "beta", "tail_exponent", "window_exponent"),
    }.items():
        fit = cfg["fits"][method]
        for key in (*keys, "err_mean", "err_std"):
            assert isinstance(fit[key], float), (method, key)
        assert fit["err_mean"] < 0.05
    assert cfg["fits"]["power_law"]["a"] < 0 and cfg["fits"]["power_law"]["b"] < 0
    assert (
        cfg["fits"]["power_law"]["a_ci"][0]
        <= cfg["fits"]["power_law"]["a"]
        <= cfg["fits"]["power_law"]["a_ci"][1]
    )
    curves = pd.read_csv(csv)
    assert {"config", "k", "coverage", "power_law", "beta_binomial_low"} <= set(curves.columns)
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert "MATH_Pythia-1B: 128 problems x 10000 samples" in res.output


def test_fit_scaling_extrapolates_with_intervals_and_a_recommendation(outcomes_csv, tmp_path):
    out = tmp_path / "x.json"
    res = runner.invoke(
        app,
        [
            "fit-scaling",
            "--outcomes",
            str(outcomes_csv),
            "--config",
            "MATH_Pythia-160M",
            "--extrapolate",
            "100000",
            "--json",
            str(out),
            "--bootstrap",
            "50",
        ],
    )
    assert res.exit_code == 0, res.output
    ex = json.loads(out.read_text())["configs"]["MATH_Pythia-160M"]["extrapolation"]
    assert ex["k"] == 100_000
    for method in ("power_law", "neg_log_power_law", "distributional"):
        v = ex[method]
        assert v["low"] <= v["coverage"] <= v["high"]
        assert 0.57 < v["coverage"] < 1.0  # above the coverage measured at 10,000, below 1
    assert ex["recommended"] in ex and ex["backtest"]["fit_samples"] == 1000
    assert "recommended:" in res.output


def write_csv(path: Path, rows: list[str]) -> Path:
    path.write_text("problem,num_samples,num_correct\n" + "\n".join(rows) + "\n")
    return path


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (["0,10,3", "1,10,11"], "line 3 has num_correct=11 > num_samples=10"),
        (["0,10,3", "1,10,-1"], "line 3 has num_correct=-1, a negative count"),
        (["0,10,3", "1,,2"], "line 3 has no num_samples"),
        (["0,10,3", "1,10,two"], "line 3 has num_correct='two', not a number"),
        (["0,10,3", "1,0,0"], "num_samples=0"),
        (["0,10,3", "0,10,4"], "appears twice"),
    ],
)
def test_bad_counts_are_one_line_errors(tmp_path, rows, message):
    path = write_csv(tmp_path / "bad.csv", rows)
    res = runner.invoke(app, ["fit-scaling", "--outcomes", str(path)])
    assert res.exit_code != 0
    assert isinstance(res.exception, MonkeysError)
    assert message in str(res.exception)


def test_the_installed_command_prints_one_line_and_exits_2_on_bad_input(tmp_path):
    path = write_csv(tmp_path / "bad.csv", ["0,10,30"])
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "from monkeys.cli import main; main()",
            "fit-scaling",
            "--outcomes",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "num_correct=30 > num_samples=10" in proc.stderr


def test_missing_columns_and_missing_inputs_are_clear(tmp_path):
    path = tmp_path / "cols.csv"
    path.write_text("problem,samples\n0,10\n")
    res = runner.invoke(app, ["fit-scaling", "--outcomes", str(path)])
    assert "missing column(s) num_samples, num_correct" in str(res.exception)
    res = runner.invoke(app, ["fit-scaling"])
    assert "pass --run DIR (one or more) or --outcomes" in str(res.exception)
    res = runner.invoke(app, ["fit-scaling", "--outcomes", str(tmp_path / "nope.csv")])
    assert "does not exist" in str(res.exception)


@pytest.mark.parametrize(
    ("rows", "label"),
    [
        (["0,50,0", "1,50,0", "2,50,0"], "all-zero"),
        (["0,50,50", "1,50,50"], "all-one"),
        (["0,50,7"], "single problem"),
        (["0,1,1", "1,1,0", "2,1,0"], None),  # one sample per problem: only k = 1 exists
    ],
)
def test_degenerate_tables_give_labelled_results_not_tracebacks(tmp_path, rows, label):
    path, out = write_csv(tmp_path / "d.csv", rows), tmp_path / "d.json"
    res = runner.invoke(
        app, ["fit-scaling", "--outcomes", str(path), "--json", str(out), "--extrapolate", "500"]
    )
    assert res.exit_code == 0, res.output
    cfg = json.loads(out.read_text())["configs"]["d"]
    if label:
        assert cfg["degenerate"].startswith(label)
    else:
        assert cfg["coverage"] == {"1": pytest.approx(1 / 3)}
        assert "one sample per problem" in cfg["fits"]["power_law"]["degenerate"]
        assert "one sample per problem" in cfg["fits"]["distributional"]["degenerate"]
    assert "extrapolation" in cfg
    if label == "all-zero":
        assert cfg["extrapolation"]["recommended"] is None


# -- a real run directory ---------------------------------------------------------------------------------
# problem "half": the right answer is written three ways; the wrong "3" is the most common single string
ANSWERS = {
    "half": ["\\frac{1}{2}", "0.5", "1/2", "3", "3", "3", "\\frac{1}{2}", "0.5", None, "1/2"],
    "seven": ["7", "7", "8", "7", "9", "7", "7", "8", None, "7"],
    "hard": ["4", "5", "6", "5", "4", "5", "5", "6", "4", "12"],
}
RIGHT = {"half": {"\\frac{1}{2}", "0.5", "1/2"}, "seven": {"7"}, "hard": {"12"}}


@pytest.fixture()
def run_dir(tmp_path) -> Path:
    path = tmp_path / "math-run"
    problems = pd.DataFrame(
        {
            "problem_id": list(ANSWERS),
            "prompt": ["Compute 1/2.", "Compute 3+4.", "Compute 3*4."],
            "reference": ["\\frac{1}{2}", "7", "12"],
            "subject": ["Prealgebra", "Prealgebra", "Algebra"],
        }
    )
    manifest = {"task": {"name": "math", "default_verifier": "math", "options": {}}, "model": "test", "k": 10}
    run = Run.create(path, manifest, problems)
    samples, verdicts = [], []
    rng = np.random.default_rng(0)
    for pid, answers in ANSWERS.items():
        for i, a in enumerate(answers):
            ok = a in RIGHT[pid]
            samples.append(
                {
                    "problem_id": pid,
                    "sample_index": i,
                    "text": f"... {a}",
                    "prompt_tokens": 5,
                    "completion_tokens": 10,
                    "finish_reason": "stop",
                    "cumulative_logprob": (-2.0 if ok else -5.0) + rng.normal(0, 0.1),
                    "seed": i,
                }
            )
            verdicts.append(
                {
                    "problem_id": pid,
                    "sample_index": i,
                    "verifier": "math",
                    "verifier_version": "1",
                    "verdict": "pass" if ok else "fail",
                    "answer": a,
                    "detail": "",
                    "seconds": 0.0,
                }
            )
    with run.writer("samples") as t:
        t.append(pa.Table.from_pylist(samples, schema=SAMPLES))
    with run.writer("verdicts") as t:
        t.append(pa.Table.from_pylist(verdicts, schema=VERDICTS))
    return path


@pytest.mark.e2e
def test_fit_scaling_from_a_run_matches_its_verdicts(run_dir, tmp_path):
    out = tmp_path / "run.json"
    res = runner.invoke(app, ["fit-scaling", "--run", str(run_dir), "--json", str(out), "--bootstrap", "30"])
    assert res.exit_code == 0, res.output
    cfg = json.loads(out.read_text())["configs"]["math-run"]
    n = np.array([10, 10, 10])
    c = np.array([sum(a in RIGHT[p] for a in ans) for p, ans in ANSWERS.items()])
    assert cfg["samples_per_problem"] == 10 and cfg["problems"] == 3
    for k in ("1", "2", "5", "10"):
        assert cfg["coverage"][k] == pytest.approx(float(coverage(n, c, [int(k)])[0]))
    assert cfg["per_subject"]["Algebra"]["coverage"]["10"] == 1.0
    assert cfg["per_subject"]["Prealgebra"]["problems"] == 2


@pytest.mark.e2e
def test_fit_scaling_compares_several_runs_in_one_table_and_one_plot(run_dir, tmp_path):
    import shutil

    other = tmp_path / "math-run-copy"
    shutil.copytree(run_dir, other)
    out, png = tmp_path / "two.json", tmp_path / "two.png"
    args = ["fit-scaling", "--run", str(run_dir), "--run", str(other), "--json", str(out), "--plot", str(png)]
    res = runner.invoke(app, [*args, "--bootstrap", "30"])
    assert res.exit_code == 0, res.output
    configs = json.loads(out.read_text())["configs"]
    assert list(configs) == ["math-run", "math-run-copy"]  # both, not silently the last one
    assert configs["math-run"]["coverage"] == configs["math-run-copy"]["coverage"]
    assert "math-run:" in res.output and "math-run-copy:" in res.output
    assert png.stat().st_size > 10_000 and f"plot: {png}" in res.output.replace("\n", "")


@pytest.mark.e2e
def test_select_groups_answers_by_the_verifiers_equivalence(run_dir, tmp_path):
    out, csv, png = tmp_path / "sel.json", tmp_path / "sel.csv", tmp_path / "sel.png"
    res = runner.invoke(
        app, ["select", "--run", str(run_dir), "--json", str(out), "--csv", str(csv), "--plot", str(png)]
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text())
    assert doc["grouping"] == "verifier math's answer equivalence"
    maj = doc["methods"]["majority"]
    # all ten samples: "half" is won by the 6 equivalent right answers (not the 3 "3"s), "seven" by 7,
    # "hard" by a wrong answer
    assert maj["all_subsets"]["10"] == pytest.approx(2 / 3)
    assert doc["coverage"]["10"] == pytest.approx(1.0)
    assert doc["gap"]["majority"]["10"] == pytest.approx(1 / 3)
    assert maj["all_subsets_estimator"] == "exact over all subsets"
    assert abs(maj["subsets_mean"]["5"] - maj["all_subsets"]["5"]) < 0.1
    # right samples carry higher logprobs here, so best-of-k by mean logprob finds them whenever present
    best = doc["methods"]["best_of_k[mean_logprob]"]["all_subsets"]
    assert best["10"] == pytest.approx(1.0)
    assert best["1"] == pytest.approx(doc["coverage"]["1"])
    assert "weighted_majority[mean_logprob]" in doc["methods"]
    table = pd.read_csv(csv)
    assert list(table["k"]) == list(range(1, 11))
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_select_without_verdicts_or_scores_says_what_to_do(run_dir):
    res = runner.invoke(app, ["select", "--run", str(run_dir), "--verifier", "gsm8k"])
    assert "no verdicts of verifier 'gsm8k'" in str(res.exception) and "math" in str(res.exception)
    res = runner.invoke(app, ["select", "--run", str(run_dir), "--method", "vote"])
    assert "unknown --method" in str(res.exception)
