from __future__ import annotations

from monkeys.tasks.base import Problem
from monkeys.verifiers.answer.gsm8k import GSM8KVerifier
from monkeys.verifiers.stage.canaries import Canaries


class NoGoldFor(GSM8KVerifier):
    """The gsm8k verifier, except that problem "b" has no gold completion (like a CodeContests problem
    without a Python 3 solution)."""

    def gold_completion(self, problem: Problem) -> str:
        return "" if problem.problem_id == "b" else super().gold_completion(problem)


def test_problem_without_gold_keeps_its_empty_canary_only() -> None:
    problems = [Problem("a", "q", "3"), Problem("b", "q", "4")]
    c = Canaries(NoGoldFor(), problems)
    kinds = sorted((g.problem_id, g.canary) for g in c.groups().values())
    assert kinds == [("a", "empty"), ("a", "gold"), ("b", "empty")]
    assert c.without_gold == ["b"]
