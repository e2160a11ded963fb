"""`monkeys lean setup`: a Lake project with the pinned Lean toolchain, Mathlib (with its build cache) and
the Lean REPL built against them, plus `monkeys-lean.json` telling the `lean` verifier how to start it.

Needs internet (elan, Mathlib's cache and the REPL come from GitHub); every step that fails says which step
and what to do. The defaults pin the versions the miniF2F statements in `shared/data` were written for
(DeepSeek-Prover-V1.5's Lean 4.9 / Mathlib of mid-2024); pass others with the flags.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from monkeys.errors import MonkeysError
from monkeys.verifiers.lean.verifier import CONFIG

DEFAULT_TOOLCHAIN = "leanprover/lean4:v4.9.0"
DEFAULT_MATHLIB = "v4.9.0"
DEFAULT_REPL = "v4.9.0"
ELAN_URL = "https://raw.githubusercontent.com/leanprover/elan/master/elan-init.sh"
REPL_GIT = "https://github.com/leanprover-community/repl"
MATHLIB_GIT = "https://github.com/leanprover-community/mathlib4"


@dataclass(frozen=True)
class SetupPlan:
    directory: Path
    toolchain: str = DEFAULT_TOOLCHAIN
    mathlib: str = DEFAULT_MATHLIB
    repl: str = DEFAULT_REPL

    def lakefile(self) -> str:
        return (
            'name = "monkeys_lean"\ndefaultTargets = []\n\n'
            f'[[require]]\nname = "mathlib"\ngit = "{MATHLIB_GIT}"\nrev = "{self.mathlib}"\n'
        )

    def config(self, lake: str) -> dict[str, object]:
        repl_bin = self.directory / "repl" / ".lake" / "build" / "bin" / "repl"
        return {
            "repl": [lake, "env", str(repl_bin)],
            "cwd": str(self.directory),
            "toolchain": self.toolchain,
            "mathlib": self.mathlib,
            "repl_rev": self.repl,
        }


def find_lake() -> str | None:
    found = shutil.which("lake")
    if found:
        return found
    elan_lake = Path.home() / ".elan" / "bin" / "lake"
    return str(elan_lake) if elan_lake.is_file() else None


def install_elan(url: str | None = None) -> str:
    """Download and run elan's installer (no default toolchain: the project's own pin is used)."""
    url = url or os.environ.get("MONKEYS_ELAN_URL", ELAN_URL)
    try:
        with urllib.request.urlopen(url, timeout=20) as resp:
            script = resp.read()
    except Exception as exc:  # URLError, timeouts, refused connections
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        raise MonkeysError(
            f"cannot download elan from {url} ({reason}): `monkeys lean setup` needs internet; run it on a "
            "machine that has it and copy the project directory here"
        ) from None
    with tempfile.NamedTemporaryFile("wb", suffix=".sh", delete=False) as fh:
        fh.write(script)
    _step("install elan", ["sh", fh.name, "-y", "--default-toolchain", "none"], None)
    lake = find_lake()
    if lake is None:
        raise MonkeysError("elan installed, but no `lake` in ~/.elan/bin; check elan's output and rerun")
    return lake


def _step(what: str, argv: list[str], cwd: Path | None, timeout: float = 3600) -> None:
    try:
        proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError:
        raise MonkeysError(f"lean setup: {what} needs `{argv[0]}`, which is not installed") from None
    except subprocess.TimeoutExpired:
        raise MonkeysError(
            f"lean setup: {what} took over {timeout:.0f}s; check the network and rerun"
        ) from None
    if proc.returncode != 0:
        last = (proc.stderr.strip() or proc.stdout.strip() or "no output").splitlines()[-1][:200]
        raise MonkeysError(f"lean setup: {what} failed ({last}); fix that and rerun `monkeys lean setup`")


def setup(plan: SetupPlan) -> Path:
    """Make (or complete) the project; returns the path of its `monkeys-lean.json`."""
    lake = find_lake() or install_elan()
    d = plan.directory
    d.mkdir(parents=True, exist_ok=True)
    (d / "lean-toolchain").write_text(plan.toolchain + "\n")
    (d / "lakefile.toml").write_text(plan.lakefile())
    _step("fetch Mathlib", [lake, "update"], d)
    _step("download Mathlib's build cache", [lake, "exe", "cache", "get"], d)
    repl_dir = d / "repl"
    if not repl_dir.is_dir():
        _step(
            "fetch the Lean REPL",
            ["git", "clone", "--depth", "1", "--branch", plan.repl, REPL_GIT, str(repl_dir)],
            d,
        )
    (repl_dir / "lean-toolchain").write_text(plan.toolchain + "\n")
    _step("build the Lean REPL", [lake, "build"], repl_dir)
    path = d / CONFIG
    path.write_text(json.dumps(plan.config(lake), indent=2) + "\n")
    return path
