"""The `gsm8k` verifier: the final number of a grade-school-math completion, compared exactly with the
reference.

Extraction, in order: the number after the first `####` (the few-shot format), else the last "the answer
is N", else the last `\\boxed{N}`, else the last number in the text. A completion that runs on into a new
"Question:" is cut there first. Numbers are normalised (thousands separators, currency, units, trailing
periods, `5.00` = `5`) and compared as exact decimals, so `1,000.00` equals `1000`.

Known-wrong reference: GSM8K test item 1038 (Jim's college loans) has reference `#### 4`, but its own
solution computes 300,000 / 50,000 = 6 years. We grade against the published reference, like every other
harness and the paper, so a correct "6" fails there; `tests/test_verify_gsm8k.py` pins this.
"""

from __future__ import annotations

import re
import time
from dataclasses import replace
from decimal import Decimal, InvalidOperation

from monkeys.records import Problem
from monkeys.verifiers.answer.latex import last_boxed
from monkeys.verifiers.base import VERIFIERS, ChecksExtract, JudgesEquivalence, Verdict

# ASCII digits and whitespace only, and the three usual spellings of "answer": Unicode look-alikes
# (Arabic-Indic digits, the long s that case-folds to "s") are not answers.
_WS = r"[ \t\n\r\f\v]"
_NUMBER = r"[-−]?[$€£]?" + _WS + r"?[-−]?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?|[-−]?\.[0-9]+"
_ANSWER_IS = "(?:answer|Answer|ANSWER)" + f"{_WS}*".join(
    ["", r"(?:[iI][sS]|:)", "[:=]?", r"(?:\*\*)?", r"(?:\\\(|\$)?", f"({_NUMBER})"]
)
NUMBER = re.compile(_NUMBER)
ANSWER_IS = re.compile(_ANSWER_IS)
NOISE = re.compile(r"[$€£\s,]")
MAX_DIGITS = 60  # longer digit strings are not answers (and would make Decimal slow)


def canonical_number(text: str) -> str | None:
    """`"$1,234.50."` → `"1234.5"`; None if `text` is not one number."""
    s = text.strip()
    if s.isascii() and s.isdigit():  # the common case, without Decimal
        return (s.lstrip("0") or "0") if len(s) <= MAX_DIGITS else None
    s = NOISE.sub("", s.rstrip(".").replace("−", "-"))
    if not s or len(s) > MAX_DIGITS:
        return None
    try:
        d = Decimal(s)
    except InvalidOperation:
        return None
    if not d.is_finite():
        return None
    out = format(d.normalize(), "f")
    return "0" if out in ("-0", "0") else out


def _first_number(text: str) -> str | None:
    m = NUMBER.search(text)
    return canonical_number(m.group(0)) if m else None


def _last_answer_is(text: str) -> str | None:
    """The number of the last "the answer is N" (any case), scanning back from the end."""
    end = len(text)
    while True:
        at = max(text.rfind("answer", 0, end), text.rfind("Answer", 0, end), text.rfind("ANSWER", 0, end))
        if at < 0:
            return None
        m = ANSWER_IS.match(text, at)
        if m is not None:
            found = canonical_number(m.group(1))
            if found is not None:
                return found
        end = at


def extract_number(completion: str) -> str | None:
    """The completion's final numeric answer, normalised; None when it states none."""
    cut = completion.find("Question:")
    text = completion[:cut] if cut >= 0 else completion
    marker = text.find("####")
    if marker >= 0:
        line_end = text.find("\n", marker)
        line = text[marker + 4 : line_end if line_end >= 0 else len(text)]
        bare = line.strip()
        if bare.isascii() and bare.isdigit() and len(bare) <= MAX_DIGITS:  # "#### 18": the common case
            return bare.lstrip("0") or "0"
        found = _first_number(line)
        if found is not None:
            return found
    found = _last_answer_is(text)
    if found is not None:
        return found
    boxed = last_boxed(text)
    if boxed is not None:
        found = _first_number(boxed)
        if found is not None:
            return found
    tail = None
    for m in NUMBER.finditer(text):
        tail = m
    return canonical_number(tail.group(0)) if tail else None


@VERIFIERS.register("gsm8k")
class GSM8KVerifier(ChecksExtract, JudgesEquivalence):
    """Exact numeric match of the final answer. Checks are microseconds and cannot hang, so the runner
    does them in its own process (`runs_inline`)."""

    name = "gsm8k"
    version = "2"  # 2: "the answer is N" is found by scanning back from the end (same answers, linear time)
    runs_inline = True

    def extract(self, problem: Problem, completion: str) -> str | None:
        return extract_number(completion)

    def check(self, problem: Problem, completion: str) -> Verdict:
        t0 = time.perf_counter()
        v = self.check_extract(problem, extract_number(completion))
        return replace(v, seconds=time.perf_counter() - t0)

    def check_extract(self, problem: Problem, answer: str | None) -> Verdict:
        """The verdict for an already-extracted answer (what `check` decides after extracting)."""
        expected = canonical_number(problem.reference)
        if expected is None:
            return Verdict("error", None, f"reference {problem.reference[:50]!r} is not a number")
        if answer is None:
            return Verdict("fail", None, "no answer found")
        if answer == expected:
            return Verdict("pass", answer, "")
        return Verdict("fail", answer, f"expected {expected}")

    def gold_completion(self, problem: Problem) -> str:
        return f"The answer is {problem.reference}.\n#### {problem.reference}"

    def same_answer(self, problem: Problem, a: str, b: str) -> bool:
        ca = canonical_number(a)
        return ca is not None and ca == canonical_number(b)
