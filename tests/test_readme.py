"""The README, followed literally on this checkout: `bash dev.sh demo`, then its after-demo commands."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[1]


def after_demo_commands() -> str:
    text = (ROOT / "README.md").read_text()
    m = re.search(r"<!-- after-demo -->\n```bash\n(.*?)```\n<!-- /after-demo -->", text, re.S)
    assert m, "README lost its after-demo block"
    return m.group(1)


def test_readme_after_demo_block_is_what_the_test_runs() -> None:
    block = after_demo_commands()
    assert block.startswith("source .venv/bin/activate\n") and "monkeys show --run runs/demo-gsm8k" in block


def test_demo_then_the_readme_commands_work_as_written() -> None:
    env = {
        k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "MONKEYS_VENV", "MONKEYS_DEMO_RUN")
    }
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if ".venv" not in p)
    demo = subprocess.run(
        ["bash", "dev.sh", "demo"], cwd=ROOT, capture_output=True, text=True, env=env, timeout=2400
    )
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    assert "runs/demo-gsm8k: 256 samples stored" in demo.stdout
    assert "verdicts: pass" in demo.stdout and "demo: plot at runs/demo-gsm8k/coverage.png" in demo.stdout
    assert (ROOT / "runs" / "demo-gsm8k" / "coverage.png").is_file()
    # quiet once set-up (pip's own notices) is done: nothing from vLLM or torch reaches the terminal
    start = demo.stderr.find(
        "engine logs:"
    )  # the sample command's first line (absent when nothing to sample)
    after_setup = demo.stdout.split("embedded model:")[-1] + (demo.stderr[start:] if start >= 0 else "")
    assert "WARNING" not in after_setup and "Warning" not in after_setup, after_setup
    proc = subprocess.run(
        ["bash", "-e", "-c", after_demo_commands()],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = proc.stdout
    assert "runs/demo-gsm8k" in out and "256/256" in out  # monkeys runs
    assert "task gsm8k" in out and "verifier gsm8k:" in out  # monkeys show
    assert "[4 #" in out and "] pass" in out  # a passing sample of problem 4
    assert "Question:" in out  # the prompt of problem 1
    assert "python-tests" in out  # monkeys list verifiers
