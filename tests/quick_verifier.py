"""A pooled verifier with a quick check (registered on import; workers import this module, which loads no
pandas): the runner must settle in its own process what `quick_check` decides and send only the rest to
the killable workers."""

from __future__ import annotations

import os
import signal
import time

from monkeys.records import Problem
from monkeys.verifiers.base import VERIFIERS, ChecksQuickly, Verdict


class QuickHazard(ChecksQuickly):
    """Answer = last word. In the pool "hang" never returns and "crash" kills the worker; the quick check
    decides "hang" (so it must never reach the pool), passes the reference, and raises on "oops" (so the pool
    must take it)."""

    name = "t-quick-hazard"
    version = "1"

    def extract(self, problem: Problem, completion: str) -> str | None:
        words = completion.split()
        return words[-1].lower() if words else None

    def quick_check(self, problem: Problem, answer: str | None) -> Verdict | None:
        if answer == "oops":
            raise RuntimeError("quick check broke")
        if answer == "hang":
            return Verdict("fail", answer, "decided quickly")
        if answer == problem.reference:
            return Verdict("pass", answer, "")
        return None

    def check(self, problem: Problem, completion: str) -> Verdict:
        x = self.extract(problem, completion)
        if x == "hang":
            time.sleep(3600)
        if x == "crash":
            os.kill(os.getpid(), signal.SIGSEGV)
        if x is None:
            return Verdict("fail", None, "no answer found")
        return Verdict("pass" if x == problem.reference else "fail", x, "checked in the pool")

    def gold_completion(self, problem: Problem) -> str:
        return f"answer {problem.reference}"


VERIFIERS.add("t-quick-hazard", QuickHazard)
