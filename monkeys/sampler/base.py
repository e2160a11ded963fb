"""The engine seam: requests in, completions out, streamed as each request finishes.

An engine subclasses `Engine`. Its construction arguments are its options (`--model`, and `-E key=value`
typed by the factory's signature); `describe()` is what the run manifest records about it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, runtime_checkable

from monkeys.records import Completion, Request, SamplingParams
from monkeys.registry import Registry


class Engine(ABC):
    """Draws samples. `generate` yields each request's completion as soon as it finishes, in any order;
    a completion holds exactly `request.n` texts, and sample `start_index + j` is drawn with seed
    `request.seed + j` where the engine supports seeds.

    `requests` is pulled lazily, one request whenever the engine has room. It may yield None, meaning
    "nothing more for now": the engine then goes on with what it holds and asks again later (after a step,
    a short wait or a completion; asking again early is harmless, the stream yields None again). A stream
    yields None only while some of its requests are unfinished (`monkeys solve` does this); the vLLM,
    openai and replica-pool engines all take such streams."""

    name: ClassVar[str]

    @abstractmethod
    def describe(self) -> dict[str, Any]:
        """What the manifest records: at least {"name": ...}, plus version, model path, settings."""

    @abstractmethod
    def generate(
        self, requests: Iterable[Request | None], params: SamplingParams
    ) -> Iterator[Completion]: ...

    def close(self) -> None:  # noqa: B027  (an optional hook: nothing to release by default)
        """Release the model, servers or connections the engine holds."""


ENGINES: Registry[Engine] = Registry("engine", group="monkeys.engines", base=Engine)

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
