"""Records live in one shared module, so loading a verifier does not load the tasks (or engines)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "module",
    ["monkeys.verifiers.answer.math", "monkeys.verifiers.answer.gsm8k", "monkeys.verifiers.code.stdio"],
)
def test_importing_a_verifier_loads_no_task_or_engine(module: str) -> None:
    code = (
        f"import sys, {module}; "
        "print(sorted(m for m in sys.modules if m.startswith(('monkeys.tasks', 'monkeys.sampler', 'vllm'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"


def test_distributional_models_do_not_import_the_curve_laws() -> None:
    """fits imports distributional; the shared pieces live in analysis/law.py, so there is no cycle."""
    code = "import sys, monkeys.analysis.distributional; print('monkeys.analysis.fits' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "False"
