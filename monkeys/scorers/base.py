"""The scorer seam: a score for a sample without an oracle (a reward model, an LLM judge, a logprob).

A scorer maps (problem, completion) pairs to one float each, higher meaning "more likely right". Its
identity is its name, version, model and options: two scores are comparable, cacheable and resumable
together only when all four match. Plugins register in `SCORERS` or through the `monkeys.scorers` entry-point
group (`name = "package.module:factory"`).
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

from monkeys.records import Problem, Scalar
from monkeys.registry import Registry

ENTRY_POINT_GROUP = "monkeys.scorers"


@dataclass(frozen=True)
class ScoreItem:
    """One sample to score: its problem, its text, and what the sampler stored about it."""

    problem: Problem
    text: str
    cumulative_logprob: float | None = None
    completion_tokens: int | None = None


class Scorer(ABC):
    """Scores a batch of samples; `version` changes whenever the scoring logic changes. `model` names the
    weights ("" when there are none) and `options` every other setting the scores depend on (set them in
    the constructor, whose arguments are the scorer's options)."""

    name: ClassVar[str]
    version: ClassVar[str]
    model: str = ""
    options: Mapping[str, Scalar] = {}  # noqa: RUF012  (replaced per instance, never mutated)

    @abstractmethod
    def score(self, items: Sequence[ScoreItem]) -> list[float]:
        """One float per item, in order; higher means more likely right."""

    def close(self) -> None:  # noqa: B027  (an optional hook)
        """Release the model the scorer holds."""


SCORERS: Registry[Scorer] = Registry("scorer", group=ENTRY_POINT_GROUP, base=Scorer)


def identity(scorer: Scorer) -> dict[str, str]:
    """The columns that say which scores a row holds: name, version, model and options (sorted JSON)."""
    return {
        "scorer": scorer.name,
        "scorer_version": str(scorer.version),
        "model": scorer.model or "",
        "options": json.dumps(dict(scorer.options), sort_keys=True, default=str),
    }


def question_of(problem: Problem) -> str:
    """The bare question a scorer shows its model: the task's `question` field when the prompt carries
    few-shot exemplars, else the prompt."""
    q = problem.fields.get("question")
    return str(q) if q else problem.prompt


def load_entry_points() -> list[str]:
    """Register the scorers that installed packages declare in the `monkeys.scorers` group."""
    import importlib.metadata as md

    added = []
    for ep in md.entry_points(group=ENTRY_POINT_GROUP):
        if ep.name not in SCORERS:
            SCORERS.add(ep.name, ep.load())
            added.append(ep.name)
    return added


__all__ = ["SCORERS", "ScoreItem", "Scorer", "identity", "load_entry_points", "question_of"]
