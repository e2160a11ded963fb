"""The Python API: `import monkeys` is light, and its stages behave like the commands."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import monkeys
from monkeys.errors import MonkeysError, RunMismatchError, UsageError
from monkeys.sampler.base import ENGINES
from monkeys.sampler.settings import default_run_dir, sample_config
from tests.fakes import FakeEngine

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def fake_engine() -> None:
    ENGINES.add("fake", lambda model=None: FakeEngine())


def test_import_monkeys_loads_no_heavy_module() -> None:
    code = (
        "import sys, monkeys; print(sorted(m for m in ('pandas', 'pyarrow', 'numpy', 'vllm', 'torch', "
        "'monkeys.tasks', 'monkeys.verifiers', 'monkeys.api') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"
    assert {"sample", "verify", "fit_scaling", "select", "Run", "Problem", "Verdict"} <= set(monkeys.__all__)


def test_sample_then_verify_then_fit_and_select(tmp_path: Path, data_dir: str) -> None:
    run = monkeys.sample(
        "gsm8k", k=4, limit=2, engine="fake", model="m", run=tmp_path / "r", data_dir=data_dir
    )
    assert isinstance(run, monkeys.Run) and run.num_samples() == 8
    result = monkeys.verify(run, cache=False)
    assert set(result.coverage) == {1, 4}
    assert 0.0 <= result.coverage[1] <= result.coverage[4] <= 1.0
    assert (
        result.report.verified == 8 and result.summary.verdicts["pass"] + result.summary.verdicts["fail"] == 8
    )
    fit = monkeys.fit_scaling(run, bootstrap=10)
    assert isinstance(fit, monkeys.ScalingResult)
    ((name, config),) = fit.configs
    assert config.samples_per_problem == 4 and set(dict(config.coverage)) == {1, 2, 4}
    assert dict(config.coverage)[1] == pytest.approx(result.coverage[1])
    assert fit.to_json()["configs"][name]["coverage"]["4"] == config.coverage_at(4)
    sel = monkeys.select(run, subsets=5)
    assert isinstance(sel, monkeys.SelectionResult)
    assert sel.samples_per_problem == 4 and sel.to_json()["samples_per_problem"] == 4
    assert [m for m, _ in sel.methods][0] == "majority"


def test_library_validates_like_the_cli(tmp_path: Path, data_dir: str) -> None:
    with pytest.raises(UsageError, match="need --temperature >= 0"):
        sample_config("gsm8k", 2, temperature=-1.0, engine="fake")
    with pytest.raises(UsageError, match="unknown preset 'x'"):
        sample_config("gsm8k", 2, preset="x", engine="fake")
    assert sample_config("gsm8k", 2, preset="paper", max_tokens=64, engine="fake").sampling.max_tokens == 64
    assert default_run_dir("gsm8k", "org/model:1") == str(Path("runs") / "gsm8k-org_model_1")
    monkeys.sample("gsm8k", k=2, limit=1, engine="fake", model="m", run=tmp_path / "r", data_dir=data_dir)
    with pytest.raises(RunMismatchError):
        monkeys.sample(
            "gsm8k", k=2, limit=1, engine="fake", model="m", run=tmp_path / "r", data_dir=data_dir, seed=1
        )
    with pytest.raises(MonkeysError, match="--no-resume"):
        monkeys.sample("gsm8k", k=2, engine="fake", run=tmp_path / "r", data_dir=data_dir, resume=False)


def test_each_package_reexports_its_public_names() -> None:
    from monkeys import records, registry, sampler, store, tasks, verifiers

    for mod in (records, registry, sampler, store, tasks, verifiers):
        assert mod.__all__ and all(hasattr(mod, n) for n in mod.__all__), mod.__name__
