"""A verifier that takes a fixed 20 ms per check (registered on import, for kill-and-resume tests).

The pace, not the machine, sets how long a verify takes, so a test can kill it once some verdicts are
stored and know that most of the work is still left: a faster machine cannot finish first.
"""

from __future__ import annotations

import time
from fractions import Fraction

from monkeys.records import Problem
from monkeys.verifiers.base import VERIFIERS, JudgesEquivalence, Verdict

PACE = 0.02


class Paced(JudgesEquivalence):
    name = "t-paced"
    version = "1"
    runs_inline = False

    def extract(self, problem: Problem, completion: str) -> str | None:
        words = completion.split()
        return words[-1] if words else None

    def check(self, problem: Problem, completion: str) -> Verdict:
        time.sleep(PACE)
        x = self.extract(problem, completion)
        if x is None:
            return Verdict("fail", None, "no answer found")
        return Verdict("pass" if Fraction(x) == Fraction(problem.reference) else "fail", x, "")

    def gold_completion(self, problem: Problem) -> str:
        return f"answer {problem.reference}"

    def same_answer(self, problem: Problem, a: str, b: str) -> bool:
        return a == b


if "t-paced" not in VERIFIERS:
    VERIFIERS.add("t-paced", Paced)
