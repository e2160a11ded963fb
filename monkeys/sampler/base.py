"""The engine seam: requests in, completions out, streamed as each request finishes."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from monkeys.records import Completion, Request, SamplingParams
from monkeys.registry import Registry


class Engine(Protocol):
    """Draws samples. `generate` yields each request's completion as soon as it finishes."""

    name: str

    def describe(self) -> dict[str, Any]: ...

    def generate(self, requests: Iterable[Request], params: SamplingParams) -> Iterator[Completion]: ...

    def close(self) -> None: ...


ENGINES: Registry[Engine] = Registry("engine")

__all__ = ["ENGINES", "Completion", "Engine", "EngineStats", "LiveStats", "Request", "SamplingParams"]


@dataclass(frozen=True)
class EngineStats:
    """What an engine is doing right now: generated tokens since it started, and requests it holds."""

    generated_tokens: int
    requests_running: int
    requests_waiting: int = 0


@runtime_checkable
class LiveStats(Protocol):
    """Optional engine capability: live counters, read from another thread while `generate` runs, so the
    progress line moves while requests are still being generated (they often all finish together)."""

    def live_stats(self) -> EngineStats: ...
