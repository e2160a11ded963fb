"""The `none` backend: the same supervisor as a plain host process. No isolation at all; rlimits and the
wall clock still apply, but the program can read and write whatever this user can. Only behind
`--unsafe-no-sandbox`, and it says so on stderr."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import warnings

from monkeys.verifiers.sandbox.base import PINNED_ENV, SANDBOXES, ServerSandbox
from monkeys.verifiers.sandbox.bwrap import PipeChannel

_warned = False


def warn_unsafe() -> None:
    """Say loudly (a warning each time, a stderr line once) that nothing confines the programs."""
    global _warned
    warnings.warn(
        "sandbox 'none': model-written code runs unconfined on this machine (--unsafe-no-sandbox)",
        stacklevel=3,
    )
    if not _warned:
        print("WARNING: --unsafe-no-sandbox: running model code without any sandbox", file=sys.stderr)
        _warned = True


@SANDBOXES.register("none")
class UnsafeSandbox(ServerSandbox):
    name = "none"
    isolated = False  # never kill(-1) or wipe /tmp on the host

    def __init__(self, python: str | None = None) -> None:
        super().__init__()
        warn_unsafe()
        self.python = python or sys.executable
        self._dir = tempfile.mkdtemp(prefix="monkeys-unsafe-")

    def _scratch(self) -> str:
        return self._dir

    def _connect(self) -> PipeChannel:
        proc = subprocess.Popen(
            [self.python, "-s", "-c", self._source(), "unsafe"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=dict(PINNED_ENV, HOME=self._dir),
            cwd=self._dir,
            start_new_session=True,
        )
        return PipeChannel(proc)

    def close(self) -> None:
        super().close()
        shutil.rmtree(self._dir, ignore_errors=True)
