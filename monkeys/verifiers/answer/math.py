"""The `math` verifier: the final answer of a MATH-style completion (last `\\boxed{}`, several boxes listed
together as one answer set, or the Minerva "The final answer is X. I hope it is correct."), judged against
the reference exactly.

Grading, cheapest first: the same normalised string passes; numbers, fractions and simple expressions are
compared by exact arithmetic without SymPy (`values.py`); everything else is parsed by math-verify's LaTeX
parser and compared exactly by `compare.py` (its module docstring states the rule). The reference is read
once per problem and kept.

`extraction="lenient"` also reads prose answers ("Answer: $9$", "Final Answer: The largest $n$ is 34.") when
there is neither a box nor a Minerva sentence; it is part of the verifier's version, so its verdicts are never
mixed with strict ones.

SymPy can hang on adversarial input. This verifier turns off math-verify's own SIGALRM timeouts (they only
work in a process's main thread); the runner enforces the wall-clock limit by killing the worker process
that runs the check (see `pool.py`). Call `check` directly only where a hang is acceptable (tests).
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from monkeys.errors import MonkeysError
from monkeys.records import Problem
from monkeys.verifiers.answer import compare, values
from monkeys.verifiers.answer.latex import MAX_ANSWER_CHARS, final_answer, is_list, normalize
from monkeys.verifiers.base import VERIFIERS, ChecksQuickly, JudgesEquivalence, Verdict

# 3: exact comparison (no absolute epsilon, no 6-place rounding); equations, lists and answer sets kept;
#    `y=` no longer stripped; undefined values fail instead of erroring; the `extraction` option
VERSION = "3"
EXTRACTIONS = ("strict", "lenient")
GOLD_MEMO = 4096  # references kept per process; a worker sees one problem's answers in a row
WARM_ANSWERS = (  # one of each shape of MATH answer (`warm_up`)
    "3x^4-2x^3+x^2-7x+5",
    "\\frac{a+1}{b^2}",
    "(-\\infty,3]\\cup(4,\\infty)",
    "\\{1,2\\}",
    "(1,\\frac{2}{3})",
    "2\\sqrt{3}+i",
    "y=2x+1",
    "x\\le 5",
    "\\begin{pmatrix}1\\\\2\\end{pmatrix}",
    "\\text{yes}",
    "x\\in[0,1)",
    "7(x-1)(x+2)",
    "\\pi r^2",
    "e^{2}",
    "\\sin x",
    "10^{-3}",
    "a,b,c",
    "s^2t",
    "45^\\circ",
)
_WARMED = False


def extract_answer(completion: str, lenient: bool = False, answer_set: bool = True) -> str | None:
    """The normalised final answer of a completion, or None when it states none. `answer_set`: boxes listed
    together (`\\boxed{-2} and \\boxed{1}`) are one answer; otherwise the last box is."""
    raw = final_answer(completion, lenient=lenient, answer_set=answer_set)
    if raw is None:
        return None
    answer = normalize(raw)
    return answer or None


@dataclass
class _Reference:
    """A problem's reference, read once: its normalised string, exact reading and (lazily) SymPy object."""

    text: str
    reading: values.Reading | None
    is_decimal: bool
    is_list: bool  # a list reference reads listed boxes as one answer set; any other grades the last box
    _parsed: list[Any] = field(default_factory=list)
    _target: list[Any] = field(default_factory=list)

    def parsed(self) -> Any | None:
        if not self._parsed:
            self._parsed.append(_parse(self.text))
        return self._parsed[0]

    def against_number(self) -> tuple[str, complex | None] | None:
        """`compare.against_number` of the parsed reference, worked out once (None: SymPy decides)."""
        if not self._target:
            parsed = self.parsed()
            self._target.append(None if parsed is None else compare.against_number(parsed))
        return self._target[0]


@VERIFIERS.register("math")
class MathVerifier(ChecksQuickly, JudgesEquivalence):
    """Exact equivalence of final answers: normalised strings, then exact arithmetic, then SymPy.

    Args:
        extraction: "strict" (default: the last box or the Minerva sentence, as the MATH/Minerva
            harnesses read answers) or "lenient" (also a prose "Answer: ..." line when neither is there).
    """

    name = "math"
    version = VERSION  # an instance's version also names its extraction when that is not the default
    # imported once by the worker pool's fork server; `_warm` also runs one parse and comparison there
    preload = ("math_verify", "sympy", "monkeys.verifiers.answer._warm")

    def __init__(self, extraction: str = "strict") -> None:
        if extraction not in EXTRACTIONS:
            raise MonkeysError(
                f"unknown math extraction {extraction!r}; choose one of: {', '.join(EXTRACTIONS)}"
            )
        self.extraction = extraction
        self.version = VERSION if extraction == "strict" else f"{VERSION}+{extraction}"
        self._lenient = extraction == "lenient"
        self._gold: OrderedDict[tuple[str, str], _Reference] = OrderedDict()
        self._last: tuple[tuple[str, str] | None, Any] = (None, None)

    # -- the verifier contract -------------------------------------------------------------------------
    def extract(self, problem: Problem, completion: str) -> str | None:
        return extract_answer(completion, self._lenient, self._reference(problem).is_list)

    def check(self, problem: Problem, completion: str) -> Verdict:
        t0 = time.perf_counter()
        answer = self.extract(problem, completion)
        if answer is None:
            return Verdict("fail", None, "no answer found", time.perf_counter() - t0)
        verdict, detail = self.judge(problem, answer)
        return Verdict(verdict, answer[:MAX_ANSWER_CHARS], detail, time.perf_counter() - t0)

    def gold_completion(self, problem: Problem) -> str:
        return f"So the answer is $\\boxed{{{problem.reference}}}$."

    def same_answer(self, problem: Problem, a: str, b: str) -> bool:
        """Equivalence of two answers, for majority vote. Runs SymPy in this process without a time limit;
        parses are memoised, and numbers and simple expressions are compared without SymPy."""
        na, nb = normalize(a), normalize(b)
        if na == nb:
            return True
        ra, rb = _read(na), _read(nb)
        if ra is not None and rb is not None:
            decided = values.decide(ra, rb)
            if decided is not None:
                return decided
        pa, pb = _parse(na), _parse(nb)
        if pa is None or pb is None:
            return False
        return compare.equivalent(pa, pb, compare.has_decimal(na))

    def warm_up(self) -> None:
        """Parses of the shapes MATH answers take, and a comparison, so SymPy's lazy set-up is done and the
        LaTeX parser's prediction cache (ANTLR's DFA, which makes later parses of like answers about 3x
        faster) is filled before the first timed check. Once per process: the worker pool's fork server
        does it (`_warm`), and the workers it forks inherit the result."""
        global _WARMED
        if _WARMED:
            return
        for answer in WARM_ANSWERS:
            with contextlib.suppress(Exception):
                compare.parse(answer)
        compare.equivalent(compare.parse("\\frac{1}{2}"), compare.parse("\\sqrt{2}x"))
        _WARMED = True

    # -- grading ---------------------------------------------------------------------------------------
    def quick_check(self, problem: Problem, answer: str | None) -> Verdict | None:
        """`check`'s verdict for an extracted answer when exact arithmetic (no SymPy) settles it; None when
        it needs SymPy. Microseconds and cannot hang, so the runner calls it in its own process."""
        t0 = time.perf_counter()
        if answer is None:
            return Verdict("fail", None, "no answer found", time.perf_counter() - t0)
        decided = self._quick_judge(self._reference(problem), answer)
        if decided is None:
            return None
        return Verdict(decided[0], answer[:MAX_ANSWER_CHARS], decided[1], time.perf_counter() - t0)

    def judge(self, problem: Problem, answer: str) -> tuple[str, str]:
        """(verdict, detail) for an extracted, normalised answer."""
        gold = self._reference(problem)
        decided = self._quick_judge(gold, answer)
        if decided is not None:
            return decided
        expected = f"not equivalent to {gold.text[:100]}"
        gold_parsed = gold.parsed()
        if gold_parsed is None:
            return "fail", "reference not parseable; strings differ"
        if gold.reading is None and _plain_number(answer):
            # a plain number against a reference the exact reader cannot read (`(1,2)`, `x^2+1`, `i`): the
            # reference's shape or its value, worked out once, settles most of them without parsing the answer
            target = gold.against_number()
            pred_reading = _read(answer)
            if target is not None and pred_reading is not None:
                number = pred_reading.items[0]
                value = number.exact if number.exact is not None else number.approx
                if value is not None and compare.differs(target, float(value)):
                    return "fail", expected
        pred = _parse(answer)
        if pred is None:
            return "fail", "answer not parseable; strings differ"
        try:
            ok = compare.equivalent(gold_parsed, pred, gold.is_decimal)
        except Exception as exc:  # the comparison itself guards SymPy's errors: this is a fault of ours
            return "error", f"comparison raised {type(exc).__name__}: {str(exc)[:200]}"
        return ("pass", "equivalent") if ok else ("fail", expected)

    def _quick_judge(self, gold: _Reference, answer: str) -> tuple[str, str] | None:
        """The verdicts that need no SymPy: no reference, equal strings, too long, or two exact readings."""
        if not gold.text:
            return "error", "the problem has no reference answer"
        if answer == gold.text:
            return "pass", "same normalised answer"
        if len(answer) > MAX_ANSWER_CHARS:
            return "fail", f"answer too long ({len(answer)} characters)"
        if gold.reading is not None:
            pred_reading = _read(answer)
            if pred_reading is not None:
                decided = values.decide(gold.reading, pred_reading)
                if decided is not None:
                    return (
                        ("pass", "same exact value")
                        if decided
                        else ("fail", f"not equivalent to {gold.text[:100]}")
                    )
        return None

    def _reference(self, problem: Problem) -> _Reference:
        key = (problem.problem_id, problem.reference)
        if key == self._last[0]:  # samples come a problem at a time: skip the memo's bookkeeping
            return self._last[1]
        ref = self._gold.get(key)
        if ref is not None:
            self._gold.move_to_end(key)
            self._last = (key, ref)
            return ref
        text = normalize(problem.reference)
        ref = _Reference(text, _read(text), compare.has_decimal(text), is_list(text))
        self._gold[key] = ref
        if len(self._gold) > GOLD_MEMO:
            self._gold.popitem(last=False)
        self._last = (key, ref)
        return ref


def _plain_number(answer: str) -> bool:
    """Whether a readable answer is one number whose float is accurate and whose SymPy parse is that number:
    not a list, not a braced group (the parser reads `{5}` as a set), and, unless it is rational, with no
    sum or difference in it (a float sum of irrationals may cancel)."""
    reading = _read(answer)
    if reading is None or reading.is_list or answer.lstrip("(+-").startswith("{"):
        return False
    return reading.items[0].exact is not None or ("+" not in answer[1:] and "-" not in answer[1:])


@functools.lru_cache(maxsize=1 << 14)
def _read(answer: str) -> values.Reading | None:
    return values.read(answer)


@functools.lru_cache(maxsize=1 << 14)
def _parse(answer: str) -> Any | None:
    """`compare.parse`, memoised (grouping compares each distinct answer with many others); None when the
    parser cannot read the answer."""
    try:
        return compare.parse(answer)
    except Exception:  # the LaTeX parser raises anything on odd input; an unreadable answer is no answer
        return None
