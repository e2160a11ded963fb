"""The run manifest's schema: one typed record that sampling and import both build.

`manifest.json` holds `Manifest.to_json()` plus what the store stamps itself (format, monkeys_version,
created, updated) and what later stages add (`imports`, `verdict_sets`). Plugin options appear only when
given, so manifests written before they existed read the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class TaskEntry:
    """The task: its name, default verifier, selection options and its plugin's own options (-T)."""

    name: str
    default_verifier: str
    options: dict[str, Any]
    plugin_options: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out = {"name": self.name, "default_verifier": self.default_verifier, "options": dict(self.options)}
        if self.plugin_options:
            out["plugin_options"] = dict(self.plugin_options)
        return out


@dataclass(frozen=True)
class Manifest:
    """What a run was asked for. `engine` is the engine's own description (name, version, settings, and
    its -E options under `options`); `sampling` is `SamplingParams.manifest()`."""

    task: TaskEntry
    model: str
    engine: dict[str, Any]
    sampling: dict[str, Any]
    k: int
    seed: int | None
    chunk_size: int | None

    def identity(self) -> dict[str, Any]:
        """The fields a resumed run must match: all but k, which may grow."""
        return {
            "task": self.task.to_json(),
            "model": self.model,
            "sampling": dict(self.sampling),
            "seed": self.seed,
            "chunk_size": self.chunk_size,
            "engine": dict(self.engine),
        }

    def to_json(self) -> dict[str, Any]:
        return {**self.identity(), "k": self.k}


__all__ = ["Manifest", "TaskEntry"]
