"""`monkeys fit-scaling` and `monkeys select` print and write exactly what they did before their results
became typed objects: every case's text output and --json document is compared with a golden file.

Regenerate (only when a change of output is intended) with MONKEYS_WRITE_GOLDEN=1.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from monkeys.cli import app
from tests.test_analysis_cli import run_dir  # noqa: F401  (the fixture)

GOLDEN = Path(__file__).resolve().parent / "fixtures" / "golden"
runner = CliRunner()


def outcomes_table(path: Path) -> Path:
    """Two configs of 24 problems x 60 samples with spread pass rates, and one degenerate config."""
    rng = np.random.default_rng(7)
    rows = ["config,problem,num_samples,num_correct"]
    for config, scale in (("easy", 0.4), ("hard", 0.05)):
        p = rng.beta(0.3, 0.3 / scale, size=24)
        for i, pi in enumerate(p):
            rows.append(f"{config},{i},60,{rng.binomial(60, pi)}")
    rows += [f"none,{i},60,0" for i in range(5)]
    path.write_text("\n".join(rows) + "\n")
    return path


def check(name: str, args: list[str], tmp: Path) -> None:
    out = tmp / f"{name}.json"
    res = runner.invoke(app, [*args, "--json", str(out)])
    assert res.exit_code == 0, res.output
    got = {
        "txt": res.output.replace(str(tmp), "<tmp>"),
        "json": out.read_text().replace(str(tmp), "<tmp>"),
    }
    for ext, text in got.items():
        golden = GOLDEN / f"{name}.{ext}"
        if os.environ.get("MONKEYS_WRITE_GOLDEN"):
            golden.write_text(text)
        assert text == golden.read_text(), f"{name}.{ext} differs from its golden file"


def test_fit_scaling_of_one_run(run_dir, tmp_path):  # noqa: F811
    check("fit_one_run", ["fit-scaling", "--run", str(run_dir), "--bootstrap", "30"], tmp_path)


def test_fit_scaling_of_several_runs_with_extrapolation(run_dir, tmp_path):  # noqa: F811
    other = tmp_path / "math-run-copy"
    shutil.copytree(run_dir, other)
    args = [
        "fit-scaling",
        "--run",
        str(run_dir),
        "--run",
        str(other),
        "--bootstrap",
        "20",
        "--extrapolate",
        "50",
    ]
    check("fit_two_runs", args, tmp_path)


def test_fit_scaling_of_an_outcomes_table(tmp_path):
    table = outcomes_table(tmp_path / "outcomes.csv")
    check("fit_outcomes", ["fit-scaling", "--outcomes", str(table), "--bootstrap", "40"], tmp_path)


def test_fit_scaling_of_an_outcomes_table_extrapolated(tmp_path):
    table = outcomes_table(tmp_path / "outcomes.csv")
    args = ["fit-scaling", "--outcomes", str(table), "--bootstrap", "40", "--extrapolate", "1000"]
    check("fit_outcomes_extrapolated", [*args, "--config", "easy", "--config", "none"], tmp_path)


def test_select_every_method(run_dir, tmp_path):  # noqa: F811
    check("select_all", ["select", "--run", str(run_dir), "--subsets", "20"], tmp_path)


def test_select_majority_only(run_dir, tmp_path):  # noqa: F811
    check(
        "select_majority",
        ["select", "--run", str(run_dir), "--method", "majority", "--subsets", "10"],
        tmp_path,
    )


def test_the_text_and_the_json_both_come_from_the_returned_records(tmp_path):
    """The library's typed result renders to the command's text and serialises to its --json document."""
    import dataclasses
    import json

    from monkeys.analysis.outcomes import read_outcomes
    from monkeys.analysis.report import _clean
    from monkeys.analysis.report import fit_scaling as analyse
    from monkeys.cli.analyse import fit_scaling_lines

    table = outcomes_table(tmp_path / "outcomes.csv")
    result, _, _ = analyse(read_outcomes(table, None), 40, 0, None, str(table))
    text = "\n".join(fit_scaling_lines(result)) + "\n"
    assert text == (GOLDEN / "fit_outcomes.txt").read_text()
    doc = json.dumps(_clean(result.to_json()), indent=2, allow_nan=False) + "\n"
    assert doc.replace(str(tmp_path), "<tmp>") == (GOLDEN / "fit_outcomes.json").read_text()
    easy = result.config("easy")
    assert easy.fit("power_law").param("b") < 0 < easy.coverage_at(60) <= 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        easy.problems = 3  # type: ignore[misc]
