"""The engine seam: requests in, completions out, streamed as each request finishes."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Protocol

from monkeys.records import Completion, Request, SamplingParams
from monkeys.registry import Registry


class Engine(Protocol):
    """Draws samples. `generate` yields each request's completion as soon as it finishes.

    `requests` is pulled lazily, one request whenever the engine has room. It may yield None, meaning
    "nothing more until you hand back a completion": the engine then stops pulling until it has yielded
    one. A stream yields None only while some of its requests are unfinished."""

    name: str

    def describe(self) -> dict[str, Any]: ...

    def generate(
        self, requests: Iterable[Request | None], params: SamplingParams
    ) -> Iterator[Completion]: ...

    def close(self) -> None: ...


ENGINES: Registry[Engine] = Registry("engine")

__all__ = ["ENGINES", "Completion", "Engine", "Request", "SamplingParams"]
