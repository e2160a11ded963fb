"""Conformance: every registered plugin honours its seam's contract, and every registered verifier passes
its canaries (gold completions pass, empty completions fail) on problems of a task it grades.

A new built-in or installed verifier must be added to CANARY_TASKS, so that it cannot ship unchecked.
Test doubles that other test modules register are named `t-*` or `fake` and are left out.
"""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from monkeys.records import Problem, Verdict
from monkeys.registry import Registry
from monkeys.sampler.base import ENGINES, Engine
from monkeys.tasks import TASKS, Task, TaskOptions
from monkeys.verifiers import VERIFIERS, Verifier
from monkeys.verifiers.sandbox import SANDBOXES, Sandbox
from monkeys.verifiers.stage.canaries import Canaries

FIXTURES = str(Path(__file__).parent / "fixtures")
# verifier -> (task, its data dir: None for the shared data, or a fixtures folder), a few problems each
CANARY_TASKS: dict[str, tuple[str, str | None]] = {
    "gsm8k": ("gsm8k", None),
    "math": ("math500", None),
    "python-tests": ("mbpp", FIXTURES),
    "stdio": ("codecontests", FIXTURES),
    "echo-checker": ("echo-task", None),
    "lean": ("minif2f", None),  # against tests/lean_standin.py: no Lean toolchain can be had here
}
SANDBOXED = {"python-tests", "stdio"}


def real(registry: Registry) -> list[str]:
    return [n for n in registry.names() if not n.startswith("t-") and n != "fake"]


def factory_class(registry: Registry, name: str) -> type:
    f = registry.factory(name)
    assert inspect.isclass(f), f"{registry.kind} {name} should be registered as its class"
    return f


@pytest.mark.parametrize("name", real(VERIFIERS))
def test_verifier_contract(name: str) -> None:
    cls = factory_class(VERIFIERS, name)
    assert issubclass(cls, Verifier) and not inspect.isabstract(cls)
    assert cls.name == name and isinstance(cls.version, str) and cls.version
    assert isinstance(cls.runs_inline, bool) and all(isinstance(m, str) for m in cls.preload)
    assert name in CANARY_TASKS, f"add verifier {name} to CANARY_TASKS so its canaries are checked"


@pytest.mark.parametrize("name", real(TASKS))
def test_task_contract(name: str) -> None:
    task = TASKS.create(name)
    assert isinstance(task, Task) and task.name == name
    assert task.default_verifier in VERIFIERS, f"task {name} names unknown verifier {task.default_verifier}"
    assert isinstance(task.stop, tuple) and all(isinstance(s, str) and s for s in task.stop)


@pytest.mark.parametrize("name", real(ENGINES))
def test_engine_contract(name: str) -> None:
    cls = factory_class(ENGINES, name)  # not built: the vLLM engine loads a model
    assert issubclass(cls, Engine) and not inspect.isabstract(cls) and cls.name == name
    assert "model" in inspect.signature(cls).parameters, "engines take the --model as `model`"


@pytest.mark.parametrize("name", real(SANDBOXES))
def test_sandbox_contract(name: str) -> None:
    cls = factory_class(SANDBOXES, name)  # not built: a sandbox starts a supervisor
    assert issubclass(cls, Sandbox) and not inspect.isabstract(cls) and cls.name == name


def canary_problems(name: str, data_dir: str) -> list[Problem]:
    task, folder = CANARY_TASKS[name]
    return TASKS.create(task).load(TaskOptions(data_dir=folder or data_dir, limit=3))


def assert_canaries(verifier: Verifier, problems: list[Problem]) -> None:
    canaries = Canaries(verifier, problems)
    groups = canaries.groups()
    assert groups, "no canary checks"
    verdicts: dict[str, Verdict] = {}
    for g in groups.values():
        verdicts[g.problem_id + ":" + g.canary] = verifier.check(
            next(p for p in problems if p.problem_id == g.problem_id), g.text
        )
    canaries.enforce(verdicts)  # raises, naming the problems, when a gold fails or an empty passes
    assert sum(1 for k in verdicts if k.endswith(":gold")) == len(problems) - len(canaries.without_gold)


def verifier_args(name: str, tmp_path: Path) -> dict[str, object]:
    """Construction arguments a verifier needs here: the lean verifier a project (the REPL stand-in)."""
    if name != "lean":
        return {}
    import json
    import sys

    from monkeys.verifiers.lean.verifier import CONFIG

    standin = Path(__file__).parent / "lean_standin.py"
    (tmp_path / CONFIG).write_text(
        json.dumps({"repl": [sys.executable, str(standin)], "toolchain": "standin"})
    )
    return {"lean_project": str(tmp_path)}


@pytest.mark.parametrize("name", [n for n in real(VERIFIERS) if n not in SANDBOXED])
def test_verifier_canaries(name: str, data_dir: str, tmp_path: Path) -> None:
    verifier = VERIFIERS.create(name, **verifier_args(name, tmp_path))
    try:
        assert_canaries(verifier, canary_problems(name, data_dir))
    finally:
        verifier.close()


@pytest.mark.e2e
@pytest.mark.usefixtures("sandbox_tools")
@pytest.mark.parametrize("name", sorted(SANDBOXED))
def test_sandboxed_verifier_canaries(name: str, data_dir: str) -> None:
    verifier = VERIFIERS.create(name)
    try:
        assert_canaries(verifier, canary_problems(name, data_dir))
    finally:
        verifier.close()
