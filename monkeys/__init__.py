"""monkeys: inference-time repeated sampling, verification and coverage scaling.

    import monkeys
    run = monkeys.sample("gsm8k", k=8, limit=2)      # a Run in runs/gsm8k-<model>
    print(monkeys.verify(run).coverage)             # unbiased pass@k by k

The stages are `sample`, `verify`, `fit_scaling` and `select` (the commands of the same names); `Run` is a
run directory; the records that cross the seams are `Problem`, `Request`, `Completion`, `SamplingParams`
and `Verdict`. Everything loads on first use, so `import monkeys` stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "sample": "monkeys.api",
    "verify": "monkeys.api",
    "fit_scaling": "monkeys.api",
    "select": "monkeys.api",
    "VerifyResult": "monkeys.api",
    "ScalingResult": "monkeys.analysis.results",
    "SelectionResult": "monkeys.analysis.results",
    "Run": "monkeys.store",
    "Problem": "monkeys.records",
    "Request": "monkeys.records",
    "Completion": "monkeys.records",
    "SamplingParams": "monkeys.records",
    "Verdict": "monkeys.records",
    "MonkeysError": "monkeys.errors",
    "UsageError": "monkeys.errors",
    "RunMismatchError": "monkeys.errors",
    "CorruptStoreError": "monkeys.errors",
    "PluginError": "monkeys.errors",
}

__all__ = sorted([*_LAZY, "__version__"])


def __getattr__(name: str) -> Any:  # PEP 562: import the public names on first use
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'monkeys' has no attribute {name!r}")
    value = vars(importlib.import_module(module))[name]
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
