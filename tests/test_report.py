"""`monkeys report`: one self-contained HTML file; fast unit checks and the page opened in real Chromium."""

from __future__ import annotations

import json
import math
import os
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from monkeys.cli import app
from tests.cost_runs import make_run

HOSTILE = (
    '<script>window.__pwned = 1; fetch("http://127.0.0.1:9/x")</script><img src="http://127.0.0.1:9/y.png">'
)
SESSIONS = [{"seconds": 4.0, "samples": 96, "device": {"kind": "cpu", "count": 2, "name": "test cpu"}}]


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> tuple[Path, dict[str, Any]]:
    """Two runs of 12 problems x 8 samples, one sample text hostile, reported with a target and prices."""
    d = tmp_path_factory.mktemp("report")
    rng = np.random.default_rng(1)
    runs = []
    for name, p_ok, model in (("small", 0.2, "s"), ("large", 0.55, "l")):
        problems = {}
        for i in range(12):
            passed = [bool(v) for v in rng.random(8) < p_ok]
            problems[f"p{i}"] = {
                "prompt_tokens": 40 + i,
                "tokens": [int(t) for t in rng.integers(5, 60, 8)],
                "passed": passed,
                "texts": {0: HOSTILE} if i == 0 else {},
                "answers": {1: "<b>not bold</b>"} if i == 1 else {},
            }
        runs.append(make_run(d / name, problems, model=model, sessions=SESSIONS))
    prices = d / "prices.yaml"
    prices.write_text(
        "s: {input: 0.1, output: 0.4, parameters: 1.0e9, layers: 16, width: 2048}\n"
        "l: {input: 2.5, output: 10, cached_input: 1.25, parameters: 7.0e10, layers: 80, width: 8192}\n"
    )
    out, js = d / "report.html", d / "report.json"
    args = ["report", "--run", str(runs[0]), "--run", str(runs[1]), "--prices", str(prices)]
    res = CliRunner().invoke(app, [*args, "--target-coverage", "0.7", "--out", str(out), "--json", str(js)])
    assert res.exit_code == 0, res.output
    return out, json.loads(js.read_text())


class Cells(HTMLParser):
    """Collect every (data-key, data-v) cell and every <script> element's text."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[tuple[str, str]] = []
        self.scripts: list[str] = []
        self._in_script = False
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        a = dict(attrs)
        if "data-key" in a:
            self.cells.append((a["data-key"] or "", a.get("data-v") or ""))
        self._in_script = tag == "script"
        if tag == "script":
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False if tag == "script" else self._in_script

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data


def resolve(doc: Any, key: str) -> Any:
    for part in key.split("/"):
        doc = doc[int(part)] if isinstance(doc, list) else doc[part]
    return doc


def check_numbers(page: str, doc: dict[str, Any]) -> int:
    parser = Cells()
    parser.feed(page)
    for key, shown in parser.cells:
        want = resolve(doc, key)
        if want is None:
            assert shown == "", key
        else:
            assert math.isclose(float(shown), float(want), rel_tol=1e-12, abs_tol=0), (key, shown, want)
    return len(parser.cells)


def test_report_is_one_file_with_every_number_equal_to_the_json(report):
    out, doc = report
    page = out.read_text()
    checked = check_numbers(page, doc)
    # coverage at each report k, per-problem columns, cost totals, the target rows: all present
    assert checked > 2 * 12 * 5
    keys = {k for k, _ in (lambda p: (p.feed(page), p.cells)[1])(Cells())}
    assert "runs/small/problems/11/first_pass" in keys and "comparison/target/runs/large/k" in keys
    assert "comparison/runs/large/axes/dollars/per_solved_problem" in keys
    # no external resource of any kind is referenced (the SVGs' url(#id) clip paths are inside the page)
    ours = page.replace(HOSTILE.replace("<", "&lt;").replace(">", "&gt;"), "")
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:[a-z]+:|//)|<link|@import|url\(\s*["']?(?!#)""", ours)


def test_report_escapes_untrusted_text(report):
    out, _ = report
    page = out.read_text()
    parser = Cells()
    parser.feed(page)
    assert len(parser.scripts) == 1 and "fetch" not in parser.scripts[0]  # only our sorter runs
    assert "&lt;script&gt;window.__pwned = 1;" in page and "&lt;b&gt;not bold&lt;/b&gt;" in page
    assert "img" not in parser.tags


def test_report_json_holds_provenance_selection_and_per_problem_rows(report):
    _, doc = report
    small = doc["runs"]["small"]
    assert small["provenance"]["model"] == "s" and small["provenance"]["verifier"] == {"gsm8k": "2"}
    assert small["provenance"]["sessions"]["devices"] == ["2 x test cpu"]
    assert small["selection"]["methods"]["majority"]["all_subsets"]["1"] == pytest.approx(
        small["coverage"]["1"]
    )
    rows = small["problems"]
    assert len(rows) == 12 and all(r["samples"] == 8 for r in rows)
    assert sum(r["correct"] for r in rows) == round(small["coverage"]["1"] * 96)
    assert doc["packages"]["numpy"]


@pytest.mark.e2e
def test_report_opens_in_chromium_without_errors_or_network_and_sorts(report, tmp_path):
    from tests.chromium_cdp import Chromium

    out, doc = report
    with Chromium() as browser:
        log = browser.open(out)
        assert log.errors == []
        assert log.requests == [log.url]  # the page itself, nothing else
        assert browser.evaluate("window.__pwned === undefined")
        # the hostile sample shows as text: a <pre> whose text is the script (inside a closed <details>)
        shown = "Array.from(document.querySelectorAll('pre'), p => p.textContent)"
        assert any(t.startswith("<script>window.__pwned = 1;") for t in browser.evaluate(shown))
        dom = browser.evaluate("document.documentElement.outerHTML")
        assert check_numbers(dom, doc) > 100
        # clicking "pass rate" sorts the problem table ascending, a second click descending
        sort = """(function(){
          var t = document.querySelectorAll('table.sortable')[2], th = t.tHead.rows[0].cells[3];
          th.click(); var up = Array.from(t.tBodies[0].rows, r => parseFloat(r.cells[3].dataset.v));
          th.click(); var down = Array.from(t.tBodies[0].rows, r => parseFloat(r.cells[3].dataset.v));
          return [up, down];})()"""
        up, down = browser.evaluate(sort)
        assert up == sorted(up) and down == sorted(down, reverse=True) and len(up) == 12
        if os.environ.get("MONKEYS_REPORT_SCREENSHOT"):
            browser.screenshot(Path(os.environ["MONKEYS_REPORT_SCREENSHOT"]))


def test_report_on_outcomes_only_has_curves_without_run_sections(tmp_path):
    path = Path(os.environ.get("MONKEYS_DATA_DIR", "/work/shared/data")) / "monkey_business" / "outcomes.csv"
    if not path.is_file():
        pytest.skip(f"{path} not present")
    out, js = tmp_path / "r.html", tmp_path / "r.json"
    args = ["report", "--outcomes", str(path), "--config", "GSM8K_Llama-3-8B-Instruct"]
    res = CliRunner().invoke(
        app, [*args, "--config", "GSM8K_Llama-3-70B-Instruct", "--out", str(out), "--json", str(js)]
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(js.read_text())
    assert check_numbers(out.read_text(), doc) >= 2 * 13
    assert doc["comparison"]["axes"] == ["samples"]
    assert "counts only" in out.read_text()


def test_selection_in_the_report_uses_each_problems_first_samples(tmp_path):
    from monkeys.analysis.html_report import selection_doc
    from monkeys.store import Run

    passed = [False, True, False, False, True, True, True, True]
    problems = {f"p{i}": {"prompt_tokens": 5, "tokens": [3] * 8, "passed": passed} for i in range(3)}
    run = Run.open(make_run(tmp_path / "r", problems))
    sel, svg, groups = selection_doc(run, None, 4)
    assert sel["samples_per_problem"] == 4 and "first 4 samples" in sel["samples_used"]
    # on the first 4 samples one of 4 passes: coverage at k=1 is 1/4 (all 8 would give 5/8)
    assert sel["coverage"]["1"] == pytest.approx(0.25)
    assert groups == {"p0": 2, "p1": 2, "p2": 2} and svg.lstrip().startswith("<?xml")
