"""The verify stage: the runner, its worker pool, dedup, the verdict cache and canaries.

The names below are imported on first use, so that a worker process importing `stage.pool` does not load
the runner's store and pandas (seconds on a busy machine, per worker)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from monkeys.verifiers.stage.cache import VerdictCache
    from monkeys.verifiers.stage.runner import VerifyReport, make_verifier, verify_run

_WHERE = {
    "VerdictCache": "monkeys.verifiers.stage.cache",
    "VerifyReport": "monkeys.verifiers.stage.runner",
    "make_verifier": "monkeys.verifiers.stage.runner",
    "verify_run": "monkeys.verifiers.stage.runner",
}

__all__ = ["VerdictCache", "VerifyReport", "make_verifier", "verify_run"]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
