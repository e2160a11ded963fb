"""The engine seam: requests in, completions out, streamed as each request finishes."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from monkeys.registry import Registry


@dataclass(frozen=True)
class SamplingParams:
    """Sampling settings shared by every request of a run. Recorded in the manifest."""

    temperature: float = 0.6
    top_p: float = 1.0
    max_tokens: int = 512
    stop: tuple[str, ...] = ()

    def manifest(self) -> dict[str, Any]:
        return {
            "temperature": self.temperature,
            "top_p": self.top_p,
            "max_tokens": self.max_tokens,
            "stop": list(self.stop),
        }


@dataclass(frozen=True)
class Request:
    """`n` samples of one problem with one seed: samples `start_index .. start_index + n - 1`."""

    problem_id: str
    prompt: str
    start_index: int
    n: int
    seed: int


@dataclass(frozen=True)
class Completion:
    """One finished request: `n` texts in sample order, with token counts and finish reasons."""

    request: Request
    texts: tuple[str, ...]
    prompt_tokens: int
    completion_tokens: tuple[int, ...]
    finish_reasons: tuple[str, ...]
    cumulative_logprobs: tuple[float | None, ...]


class Engine(Protocol):
    """Draws samples. `generate` yields each request's completion as soon as it finishes."""

    name: str

    def describe(self) -> dict[str, Any]: ...

    def generate(self, requests: Iterable[Request], params: SamplingParams) -> Iterator[Completion]: ...

    def close(self) -> None: ...


ENGINES: Registry[Engine] = Registry("engine")
