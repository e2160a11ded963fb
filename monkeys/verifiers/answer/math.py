"""The `math` verifier: the final answer of a MATH-style completion (last `\\boxed{}` or the Minerva
"The final answer is X. I hope it is correct."), judged equivalent to the reference by `math-verify`
(LaTeX → SymPy), after a cheap normalised-string comparison.

SymPy can hang on adversarial input. This verifier turns off math-verify's own SIGALRM timeouts (they only
work in a process's main thread); the runner enforces the wall-clock limit by killing the worker process
that runs the check (see `pool.py`). Call `check` directly only where a hang is acceptable (tests).
"""

from __future__ import annotations

import functools
import logging
import re
import time
from collections import OrderedDict
from typing import Any

from monkeys.records import Problem
from monkeys.verifiers.answer.latex import MAX_ANSWER_CHARS, final_answer, normalize
from monkeys.verifiers.base import VERIFIERS, JudgesEquivalence, Verdict

_INTEGER = re.compile(r"-?[0-9]{1,50}")
GOLD_MEMO = 4096  # parsed references kept per process; a worker sees one problem's answers in a row


def extract_answer(completion: str) -> str | None:
    """The normalised final answer of a completion, or None when it states none."""
    raw = final_answer(completion)
    if raw is None:
        return None
    answer = normalize(raw)
    return answer or None


@VERIFIERS.register("math")
class MathVerifier(JudgesEquivalence):
    """Equivalence of final answers: normalised strings first, then math-verify's symbolic comparison."""

    name = "math"
    version = "2"  # 2: prose after "The final answer is" is no longer taken for an answer
    preload = ("math_verify", "sympy")  # imported once by the worker pool's fork server

    def __init__(self) -> None:
        self._gold: OrderedDict[tuple[str, str], list[Any]] = OrderedDict()

    # -- the verifier contract -------------------------------------------------------------------------
    def extract(self, problem: Problem, completion: str) -> str | None:
        return extract_answer(completion)

    def check(self, problem: Problem, completion: str) -> Verdict:
        t0 = time.perf_counter()
        answer = extract_answer(completion)
        if answer is None:
            return Verdict("fail", None, "no answer found", time.perf_counter() - t0)
        verdict, detail = self.judge(problem, answer)
        return Verdict(verdict, answer[:MAX_ANSWER_CHARS], detail, time.perf_counter() - t0)

    def gold_completion(self, problem: Problem) -> str:
        return f"So the answer is $\\boxed{{{problem.reference}}}$."

    def same_answer(self, problem: Problem, a: str, b: str) -> bool:
        """Equivalence of two answers, for majority vote. Runs SymPy in this process without a time limit;
        parses are memoised, and two plain integers are compared without SymPy."""
        na, nb = normalize(a), normalize(b)
        if na == nb:
            return True
        if _INTEGER.fullmatch(na) and _INTEGER.fullmatch(nb):
            return int(na) == int(nb)
        try:
            return self._equivalent(_parse_memo(na), _parse_memo(nb))
        except Exception:  # an answer SymPy cannot compare is not the same answer
            return False

    def warm_up(self) -> None:
        """One parse and comparison, so SymPy's and the LaTeX parser's lazy set-up happens before the first
        timed check (the worker pool calls this before a worker takes work)."""
        self._equivalent(self._parse("\\frac{1}{2}"), self._parse("0.5"))

    # -- grading ---------------------------------------------------------------------------------------
    def judge(self, problem: Problem, answer: str) -> tuple[str, str]:
        """(verdict, detail) for an extracted, normalised answer."""
        expected = normalize(problem.reference)
        if not expected:
            return "error", "the problem has no reference answer"
        if answer == expected:
            return "pass", "same normalised answer"
        if len(answer) > MAX_ANSWER_CHARS:
            return "fail", f"answer too long ({len(answer)} characters)"
        gold = self._gold_parse(problem, expected)
        pred = self._parse(answer)
        if not gold:
            return "fail", "reference not parseable; strings differ"
        if not pred:
            return "fail", "answer not parseable; strings differ"
        try:
            ok = self._equivalent(gold, pred)
        except Exception as exc:  # SymPy raises anything from RecursionError to TypeError on odd input
            return "error", f"math-verify raised {type(exc).__name__}: {str(exc)[:200]}"
        return ("pass", "equivalent") if ok else ("fail", f"not equivalent to {expected[:100]}")

    def _gold_parse(self, problem: Problem, expected: str) -> list[Any]:
        key = (problem.problem_id, expected)
        if key in self._gold:
            self._gold.move_to_end(key)
            return self._gold[key]
        parsed = self._parse(expected)
        self._gold[key] = parsed
        if len(self._gold) > GOLD_MEMO:
            self._gold.popitem(last=False)
        return parsed

    @staticmethod
    def _parse(answer: str) -> list[Any]:
        from math_verify import parse

        logging.getLogger("math_verify").setLevel(logging.ERROR)
        # parsing_timeout=None: no SIGALRM; the worker pool's hard kill is the limit.
        return parse(f"\\boxed{{{answer}}}", parsing_timeout=None)

    @staticmethod
    def _equivalent(gold: list[Any], pred: list[Any]) -> bool:
        from math_verify import verify

        if not gold or not pred:
            return False
        return bool(verify(gold, pred, timeout_seconds=None, raise_on_error=True))


@functools.lru_cache(maxsize=1 << 14)
def _parse_memo(answer: str) -> list[Any]:
    """`MathVerifier._parse`, memoised: grouping compares each distinct answer with many others."""
    return MathVerifier._parse(answer)
