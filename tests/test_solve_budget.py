"""`solve` budgets in samples, generated tokens and dollars (priced as `monkeys cost` prices them)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from monkeys.analysis.cost import sample_dollars
from monkeys.analysis.model_config import Price
from monkeys.cli import app
from monkeys.errors import MonkeysError
from monkeys.sampler.base import ENGINES
from monkeys.sampler.budget import Budget
from monkeys.sampler.solve import solve
from tests.fakes import FakeEngine
from tests.test_solve_loop import solve_config, write_problems

# FakeEngine: 10 prompt tokens and 5 completion tokens per sample
PRICE = Price(input=100.0, output=1000.0)  # $/M tokens: a sample costs 10e-4 + 5e-3 = $0.006
HOPELESS = {f"q{i}": 99 for i in range(4)}  # answer 99 never passes: every problem wants the whole cap


def test_a_sample_is_priced_like_monkeys_cost_prices_it() -> None:
    cached = Price(input=100.0, output=1000.0, cached_input=10.0, per_attempt=0.5)
    assert sample_dollars(cached, 10, 5, first=True) == pytest.approx(10e-4 + 5e-3 + 0.5)
    assert sample_dollars(cached, 10, 5, first=False) == pytest.approx(10e-5 + 5e-3 + 0.5)
    b = Budget(dollars=1.0, price=cached)
    b.charge("p", 10, [5, 5])
    b.charge("p", 10, [5])
    assert b.spent_dollars == pytest.approx(
        sample_dollars(cached, 10, 5, True) + 2 * sample_dollars(cached, 10, 5, False)
    )


def test_budget_left_charges_samples_in_flight_at_the_mean_cost() -> None:
    b = Budget(tokens=100, max_tokens=512)
    assert b.left() == 1  # below max_tokens: one sample first, to learn what a sample costs
    b.issued = 1
    assert b.left() == 0  # ... and nothing more until it is back
    b.charge("p", 10, [5])
    assert b.left() == 19  # 95 tokens left at 5 a sample
    b.issued = 11  # 10 in flight, charged at the mean
    assert b.left() == 9
    b = Budget(dollars=0.06, price=PRICE)
    assert b.left() == 1
    b.issued = 1
    b.charge("p", 10, [5])
    assert b.left() == 9


def test_a_dollar_budget_without_prices_is_refused() -> None:
    with pytest.raises(MonkeysError, match="--prices"):
        Budget(dollars=1.0)


@pytest.mark.parametrize("in_flight", [1, 8])
def test_dollar_budget_stops_the_run_at_its_spend(tmp_path: Path, in_flight: int) -> None:
    data = write_problems(tmp_path / "p.jsonl", HOPELESS)
    config = solve_config(data, cap=100, budget_dollars=0.30, price=PRICE, in_flight=in_flight)
    report = solve(str(tmp_path / "r"), config, FakeEngine)
    assert report.budget_hit and {s.status for s in report.states} == {"budget"}
    assert report.samples == 50 and report.dollars == pytest.approx(0.30)
    # resumed with a larger budget: the stored samples count as spent
    more = solve_config(data, cap=100, budget_dollars=0.42, price=PRICE, in_flight=in_flight)
    again = solve(str(tmp_path / "r"), more, FakeEngine)
    assert again.samples == 70 and again.new_samples == 20 and again.dollars == pytest.approx(0.42)


def test_token_budget_stops_the_run_at_its_spend(tmp_path: Path) -> None:
    data = write_problems(tmp_path / "p.jsonl", HOPELESS)
    report = solve(
        str(tmp_path / "r"), solve_config(data, cap=100, budget_tokens=200, in_flight=8), FakeEngine
    )
    assert report.budget_hit and report.tokens == 200 and report.samples == 40


@pytest.fixture
def fake_engine() -> None:
    ENGINES.add("fake", lambda model=None: FakeEngine())


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_cli_budget_dollars_prices_the_model_from_the_price_file(tmp_path: Path, fake_engine: None) -> None:
    data = write_problems(tmp_path / "p.jsonl", HOPELESS)
    prices = tmp_path / "prices.yaml"
    prices.write_text("m: {input: 100, output: 1000}\n")
    common = ["solve", "--task", "jsonl", "--data", data, "--engine", "fake", "--max-per-problem", "100",
              "--in-flight", "4", "--model", "m", "--summary-only"]  # fmt: skip
    res = invoke(*common, "--run", str(tmp_path / "r"), "--budget-dollars", "0.3", "--prices", str(prices))
    assert res.exit_code == 0, res.output
    assert "200 samples" not in res.output and "50 samples (50 new), 250 tokens, $0.3000" in res.output
    assert "budget spent: 4 problems cut short" in res.output
    with pytest.raises(MonkeysError, match=r"--budget-dollars needs prices; pass --prices prices.yaml"):
        invoke(*common, "--run", str(tmp_path / "s"), "--budget-dollars", "0.3")
    prices.write_text("other: {input: 1, output: 2}\n")
    with pytest.raises(MonkeysError, match="has no entry for model 'm'"):
        invoke(*common, "--run", str(tmp_path / "t"), "--budget-dollars", "0.3", "--prices", str(prices))
