"""Sandboxes that run model-written programs: `bwrap` (default), `docker`, and `none` (unsafe, opt-in).

Backends register themselves in SANDBOXES when their module is imported; `docker` imports the Docker SDK
only when a docker sandbox is made.
"""

from monkeys.verifiers.sandbox import bwrap, docker, unsafe  # noqa: F401  (registration)
from monkeys.verifiers.sandbox.base import (
    SANDBOXES,
    Job,
    Limits,
    RunResult,
    Sandbox,
    SandboxPool,
    create_sandbox,
)

__all__ = ["SANDBOXES", "Job", "Limits", "RunResult", "Sandbox", "SandboxPool", "create_sandbox"]
