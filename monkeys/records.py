"""The records that cross seams: problems, requests, completions and verdicts.

One shared module, so that a verifier or an analysis import does not load every task or engine. Each record
is a frozen dataclass; field names match the run store's columns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Union

Scalar = Union[str, int, float, bool, None]  # noqa: UP007  (a runtime alias; `|` needs 3.10 objects)
VerdictValue = Literal["pass", "fail", "timeout", "error"]


@dataclass(frozen=True)
class Problem:
    """One problem. `fields` holds task-specific scalars (subject, level, entry_point, tests as JSON...)."""

    problem_id: str
    prompt: str
    reference: str
    fields: Mapping[str, Scalar] = field(default_factory=dict)


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
    cached_prompt_tokens: int | None = None  # prompt tokens the server took from its cache, where reported


@dataclass(frozen=True)
class Verdict:
    """The grade of one completion. Field names match the store's `verdicts` columns.

    A verdict fails closed: anything that is not a clean, positive check is `fail`, `timeout` or `error`,
    never `pass`."""

    verdict: VerdictValue
    answer: str | None = None  # the extracted final answer (or program), when there is one
    detail: str = ""  # a short reason: "no answer found", "wrong answer on test 3", the exception...
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return self.verdict == "pass"


__all__ = ["Completion", "Problem", "Request", "SamplingParams", "Scalar", "Verdict", "VerdictValue"]
