"""A deterministic test double for the engine seam: texts are a function of (seed, position)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from monkeys.sampler.base import Completion, Engine, Request, SamplingParams


class FakeEngine(Engine):
    """Each sample's text depends only on its effective seed (request seed + position), as with vLLM."""

    name = "fake"

    def __init__(self, fail_after: int | None = None) -> None:
        self.fail_after = fail_after
        self.requests: list[Request] = []
        self.closed = False

    def describe(self) -> dict[str, Any]:
        return {"name": "fake", "version": "0"}

    def generate(self, requests: Iterable[Request], params: SamplingParams) -> Iterator[Completion]:
        for req in requests:
            if self.fail_after is not None and len(self.requests) >= self.fail_after:
                raise RuntimeError("engine died")
            self.requests.append(req)
            texts = tuple(f"sample seed={req.seed + j} #### {(req.seed + j) % 7}" for j in range(req.n))
            yield Completion(
                req,
                texts,
                10,
                tuple(5 for _ in texts),
                tuple("stop" for _ in texts),
                tuple(-1.0 for _ in texts),
                0 if req.start_index == 0 else 8,  # a prefix cache: the problem's first request misses
            )

    def close(self) -> None:
        self.closed = True
