"""The verifier seam: one protocol, one verdict record, one registry.

A verdict fails closed: anything that is not a clean, positive check is `fail`, `timeout` or `error`,
never `pass`.
"""

from __future__ import annotations

from typing import Protocol

from monkeys.records import Problem, Verdict, VerdictValue
from monkeys.registry import Registry


class Verifier(Protocol):
    """Grades one completion of one problem. `version` changes whenever the grading logic changes."""

    name: str
    version: str

    def check(self, problem: Problem, completion: str) -> Verdict: ...


VERIFIERS: Registry[Verifier] = Registry("verifier")

__all__ = ["VERIFIERS", "Problem", "Verdict", "VerdictValue", "Verifier"]
