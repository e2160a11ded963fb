"""The verifier seam: one protocol, one verdict record, one registry.

A verdict fails closed: anything that is not a clean, positive check is `fail`, `timeout` or `error`,
never `pass`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from monkeys.registry import Registry
from monkeys.tasks.base import Problem

VerdictValue = Literal["pass", "fail", "timeout", "error"]


@dataclass(frozen=True)
class Verdict:
    """The grade of one completion. Field names match the store's `verdicts` columns."""

    verdict: VerdictValue
    answer: str | None = None  # the extracted final answer (or program), when there is one
    detail: str = ""  # a short reason: "no answer found", "wrong answer on test 3", the exception...
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return self.verdict == "pass"


class Verifier(Protocol):
    """Grades one completion of one problem. `version` changes whenever the grading logic changes."""

    name: str
    version: str

    def check(self, problem: Problem, completion: str) -> Verdict: ...


VERIFIERS: Registry[Verifier] = Registry("verifier")
