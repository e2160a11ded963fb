"""The engine seam: requests in, completions out, streamed as each request finishes."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Protocol

from monkeys.records import Completion, Request, SamplingParams
from monkeys.registry import Registry


class Engine(Protocol):
    """Draws samples. `generate` yields each request's completion as soon as it finishes."""

    name: str

    def describe(self) -> dict[str, Any]: ...

    def generate(self, requests: Iterable[Request], params: SamplingParams) -> Iterator[Completion]: ...

    def close(self) -> None: ...


ENGINES: Registry[Engine] = Registry("engine")

__all__ = ["ENGINES", "Completion", "Engine", "Request", "SamplingParams"]
