"""`monkeys show` and `monkeys list`: a run's problems, samples and verdicts, hostile texts shown safely."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from monkeys.analysis.browse import safe_text

CLI = [sys.executable, "-m", "monkeys.cli"]
HOSTILE = "\x1b[2J\x1b]0;pwned\x07[bold red]markup[/] \rOVERWRITE \u202eevil\u202c #### 72"


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, env=env, timeout=300)


@pytest.fixture()
def verified_run(tmp_path: Path, data_dir: str) -> tuple[Path, dict[str, str]]:
    rows = [
        {"problem_id": "0", "text": "The answer is #### 18"},  # GSM8K test 0's answer is 18
        {"problem_id": "0", "text": ""},
        {"problem_id": "1", "text": HOSTILE},
        {"problem_id": "1", "text": "#### 3"},  # problem 1's answer is 3
    ]
    f = tmp_path / "s.jsonl"
    f.write_text("".join(json.dumps(r) + "\n" for r in rows))
    env = {**os.environ, "MONKEYS_CACHE_DIR": str(tmp_path / "cache")}
    run = tmp_path / "r"
    assert (
        cli(
            "import", str(f), "--run", str(run), "--task", "gsm8k", "--data-dir", data_dir, env=env
        ).returncode
        == 0
    )
    v = cli("verify", "--run", str(run), env=env)
    assert v.returncode == 0, v.stderr
    return run, env


def test_safe_text_shows_controls_and_bidi_as_escapes_and_marks_empty() -> None:
    shown = safe_text(HOSTILE)
    assert "\x1b" not in shown and "\r" not in shown and "\u202e" not in shown and "\x07" not in shown
    assert "\\x1b[2J" in shown and "\\x0d" in shown and "\\u202e" in shown and "[bold red]markup[/]" in shown
    assert safe_text("") == "<empty>" and safe_text(None) == "<none>"
    long = safe_text("x" * 2500, 2000)
    assert long.startswith("x" * 2000) and "500 more characters" in long


def test_overview_lists_problems_with_pass_counts_and_empties(
    verified_run: tuple[Path, dict[str, str]],
) -> None:
    run, env = verified_run
    out = cli("show", "--run", str(run), env=env)
    assert out.returncode == 0, out.stderr
    assert "task gsm8k" in out.stdout and "verifier gsm8k: pass 2  fail 2" in out.stdout
    rows = {
        line.split("│")[1].strip(): [c.strip() for c in line.split("│")[2:-1]]
        for line in out.stdout.splitlines()
        if line.startswith("│")
    }
    assert rows["0"] == ["2", "1", "0.500", "0", "1"]  # samples, passed, rate, first pass, empty
    assert rows["1"] == ["2", "1", "0.500", "1", "0"]


def test_failed_samples_of_a_problem_with_prompt_and_hostile_text(
    verified_run: tuple[Path, dict[str, str]],
) -> None:
    run, env = verified_run
    out = cli("show", "--run", str(run), "--problem", "1", "--verdict", "fail", "--prompt", env=env)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "\x1b" not in text and "\r" not in text and "\u202e" not in text
    assert "[bold red]markup[/]" in text  # shown literally, not as rich markup
    assert "1 sample(s) match" in text and "[1 #0] fail" in text and "Question:" in text  # the prompt
    assert "answer: 72" in text or "detail:" in text
    empty = cli("show", "--run", str(run), "--problem", "0", "--verdict", "fail", env=env)
    assert "<empty>" in empty.stdout


def test_bad_filters_are_one_line_errors(verified_run: tuple[Path, dict[str, str]]) -> None:
    run, env = verified_run
    for args, want in (
        (("--problem", "nope"), "has no problem 'nope'"),
        (("--verdict", "maybe"), "--verdict must be one of"),
        (("--verifier", "math", "--verdict", "pass"), "no verdicts of verifier 'math'"),
    ):
        out = cli("show", "--run", str(run), *args, env=env)
        lines = [line for line in out.stderr.splitlines() if line.strip()]
        assert out.returncode == 2 and len(lines) == 1 and want in lines[0], (args, out.stderr)


def test_list_shows_every_kind_with_options() -> None:
    out = subprocess.run([*CLI, "list"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    for name in ("gsm8k", "math", "humaneval", "python-tests", "stdio", "vllm", "bwrap", "docker"):
        assert f"  {name} " in out.stdout
    assert "options: sandbox: str | None = None" in out.stdout
    bad = subprocess.run([*CLI, "list", "scorers-x"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "unknown kind" in bad.stderr


def test_a_verifier_not_the_tasks_warns_in_one_line(verified_run: tuple[Path, dict[str, str]]) -> None:
    run, env = verified_run
    out = cli("verify", "--run", str(run), "--verifier", "math", env=env)
    assert out.returncode == 0, out.stderr
    warned = [line for line in out.stderr.splitlines() if line.startswith("warning:")]
    assert len(warned) <= 1
    # math reads the last \\boxed{} or a "final answer": these GSM8K samples have none, so it passes none
    assert "verdicts: pass 0" in out.stdout
    assert warned and "agrees with gsm8k on only 50.0% of 4 samples" in warned[0], out.stderr
    again = cli("verify", "--run", str(run), env=env)  # the task's own verifier: no warning
    assert "warning:" not in again.stderr
