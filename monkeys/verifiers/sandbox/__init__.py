"""Sandboxes that run untrusted programs: `bwrap` (default), `docker`, and `none` (unsafe, opt-in).

A general execution facility: a `Job` (a program or command, its files, stdin inputs, environment and
`Limits`, optionally trusted preloaded `modules` with a `main` and a `companion`) in, one `RunResult` per
input out. It knows nothing of verifiers; the code verifiers build their jobs on it (`verifiers/code/`).
Backends register themselves in SANDBOXES when their module is imported; `docker` imports the Docker SDK
only when a docker sandbox is made.
"""

from monkeys.verifiers.sandbox import bwrap, docker, unsafe  # noqa: F401  (registration)
from monkeys.verifiers.sandbox.base import (
    SANDBOXES,
    Call,
    Job,
    Limits,
    RunResult,
    Sandbox,
    SandboxPool,
    ServerSandbox,
    create_sandbox,
)

__all__ = [
    "SANDBOXES",
    "Call",
    "Job",
    "Limits",
    "RunResult",
    "Sandbox",
    "SandboxPool",
    "ServerSandbox",
    "create_sandbox",
]
