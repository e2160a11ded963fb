"""The `gsm8k` verifier: the final number of a grade-school-math completion, compared exactly with the
reference.

Extraction, in order: the answer after the first `####` (the few-shot format), else the last "the answer
is ...", else the last `\\boxed{...}`, else the last number in the text. A completion that runs on into a new
"Question:" is cut there first. The answer is read whole: the value after the last `=` of the answer line
(`#### 60 - 15 - 20 = 25` is 25), fractions, mixed and scaled numbers (`3/4`, `7 1/2`, `1.5 million`), with
thousands separators, currency, LaTeX wrappers (`\\(\\$45\\)`), units and trailing periods dropped. An
answer that names two numbers (`#### 6 or 7`, `#### 10-12`, "either 8 or 9") is a hedge, not an answer: it
fails. Values are compared as exact rationals, so `1,000.00` equals `1000` and `0.75` equals `3/4`.

Known-wrong reference: GSM8K test item 1038 (Jim's college loans) has reference `#### 4`, but its own
solution computes 300,000 / 50,000 = 6 years. We grade against the published reference, like every other
harness and the paper, so a correct "6" fails there; `tests/test_verify_gsm8k.py` pins this.
"""

from __future__ import annotations

import re
import time
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from monkeys.records import Problem
from monkeys.verifiers.answer.latex import last_boxed
from monkeys.verifiers.base import VERIFIERS, ChecksExtract, JudgesEquivalence, Verdict

# ASCII digits and whitespace only, and the three usual spellings of "answer": Unicode look-alikes
# (Arabic-Indic digits, the long s that case-folds to "s") are not answers.
_WS = r"[ \t\n\r\f\v]"
_DIGITS = r"(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?|\.[0-9]+"
_NUMBER = r"[-−]?[$€£]?" + _WS + r"?[-−]?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?|[-−]?\.[0-9]+"
NUMBER = re.compile(_NUMBER)
# one answer: a sign and currency, then a mixed number, a fraction or a number with an optional scale word
_SCALES = {"thousand": 10**3, "million": 10**6, "billion": 10**9, "trillion": 10**12}
ANSWER_VALUE = re.compile(
    r"(?P<sign>[-−]?)" + _WS + r"*[$€£]?" + _WS + r"*(?P<sign2>[-−]?)"
    r"(?:(?P<whole>[0-9]+)" + _WS + r"+(?P<mn>[0-9]+)/(?P<md>[0-9]+)"
    r"|(?P<fn>[0-9]+)" + _WS + r"*/" + _WS + r"*(?P<fd>[0-9]+)"
    r"|(?P<num>" + _DIGITS + r")(?:" + _WS + r"*(?P<scale>thousand|million|billion|trillion)\b)?)"
)
_ANSWER_IS = re.compile(r"(?:answer|Answer|ANSWER)" + _WS + r"*(?:[iI][sS]|:)")
_WRAPPERS = re.compile(r"\\[()\[\]]|\\\$|\$|\*\*|\\(?:text|mathrm|textbf)\{|\\,|[{}]")
_SENTENCE_END = re.compile(r"\.(?![0-9])|\n|!|\?|;")
_HEDGE_BEFORE = re.compile(
    r"(?:[0-9]"
    + _WS
    + r"*(?:or|to|-|–|~)|\bbetween"
    + _WS
    + r"+[-−$]?[0-9][0-9,.]*"
    + _WS
    + r"+and)"
    + _WS
    + r"*[$€£]?"
    + _WS
    + r"*$",
    re.I,
)
NOISE = re.compile(r"[$€£\s,]")
MAX_DIGITS = 60  # longer digit strings are not answers (and would make Decimal slow)


def canonical_number(text: str) -> str | None:
    """`"$1,234.50."` → `"1234.5"`, `"3/4"` → `"0.75"`, `"1/3"` → `"1/3"`; None if `text` is not one number."""
    s = text.strip()
    if s.isascii() and s.isdigit():  # the common case, without Decimal
        return (s.lstrip("0") or "0") if len(s) <= MAX_DIGITS else None
    s = NOISE.sub("", s.rstrip(".").replace("−", "-"))
    if not s or len(s) > MAX_DIGITS:
        return None
    if "/" in s:
        num, _, den = s.partition("/")
        try:
            return _canonical(Fraction(int(num), int(den)))
        except (ValueError, ZeroDivisionError):
            return None
    try:
        d = Decimal(s)
    except InvalidOperation:
        return None
    if not d.is_finite():
        return None
    out = format(d.normalize(), "f")
    return "0" if out in ("-0", "0") else out


def _canonical(f: Fraction) -> str | None:
    """The canonical spelling of an exact value: a plain decimal when it has one, else `p/q`."""
    d = f.denominator
    while d % 2 == 0:
        d //= 2
    while d % 5 == 0:
        d //= 5
    if d != 1:
        return f"{f.numerator}/{f.denominator}"
    out = format((Decimal(f.numerator) / Decimal(f.denominator)).normalize(), "f")
    if len(out) > MAX_DIGITS + 2:
        return None
    return "0" if out in ("-0", "0") else out


def read_answer(segment: str) -> str | None:
    """The one number an answer segment states (after its last `=`), canonical; None when it states none or
    hedges between several (`6 or 7`, `10-12`)."""
    found = _marked(segment)
    return None if found is _NOT_FOUND else found


def _value(m: re.Match[str]) -> str | None:
    negative = (m.group("sign") + m.group("sign2")).count("-") + (m.group("sign") + m.group("sign2")).count(
        "−"
    )
    try:
        if m.group("whole") is not None:
            part = Fraction(int(m.group("mn")), int(m.group("md")))
            if not 0 < part < 1:
                return None
            f = int(m.group("whole")) + part
        elif m.group("fn") is not None:
            f = Fraction(int(m.group("fn")), int(m.group("fd")))
        else:
            digits = m.group("num").replace(",", "")
            if len(digits) > MAX_DIGITS:
                return None
            f = Fraction(Decimal(digits))
            if m.group("scale"):
                f *= _SCALES[m.group("scale")]
    except (ValueError, ZeroDivisionError, InvalidOperation):
        return None
    return _canonical(-f if negative % 2 else f)


def _line(text: str, start: int) -> str:
    end = text.find("\n", start)
    return text[start : end if end >= 0 else len(text)]


def _sentence(text: str, start: int) -> str:
    m = _SENTENCE_END.search(text, start)
    return text[start : m.start() if m else len(text)]


_NOT_FOUND = "not found"
_PLAIN = re.compile(r"[ \t]*(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?\.?[ \t]*")
_ANY_DIGIT = re.compile(r"[0-9]")


def _marked(segment: str) -> str | None:
    """An answer segment's value; `_NOT_FOUND` when it holds no number at all (so later markers are tried),
    None when it hedges."""
    if _PLAIN.fullmatch(segment):  # "#### 18.00", "The answer is 1,250": one plain number
        return canonical_number(segment)
    s = _WRAPPERS.sub(" ", segment.replace("\\boxed", " "))
    if _ANY_DIGIT.search(s) is None:
        return _NOT_FOUND
    if "=" in s:
        s = s.rsplit("=", 1)[1]
    found = list(ANSWER_VALUE.finditer(s))
    return _value(found[0]) if len(found) == 1 else None


def _last_answer_is(text: str) -> str | None:
    """The value of the last "the answer is ..." that states a number, scanning back from the end."""
    end = len(text)
    while True:
        at = max(text.rfind("answer", 0, end), text.rfind("Answer", 0, end), text.rfind("ANSWER", 0, end))
        if at < 0:
            return _NOT_FOUND
        m = _ANSWER_IS.match(text, at)
        if m is not None:
            found = _marked(_sentence(text, m.end()))
            if found is not _NOT_FOUND:
                return found
        end = at


def extract_number(completion: str) -> str | None:
    """The completion's final numeric answer, canonical; None when it states none or hedges."""
    cut = completion.find("Question:")
    text = completion[:cut] if cut >= 0 else completion
    marker = text.find("####")
    if marker >= 0:
        line = _line(text, marker + 4)
        bare = line.strip()
        if bare.isascii() and bare.isdigit() and len(bare) <= MAX_DIGITS:  # "#### 18": the common case
            return bare.lstrip("0") or "0"
        found = _marked(line)
        if found is not _NOT_FOUND:
            return found
    found = _last_answer_is(text)
    if found is not _NOT_FOUND:
        return found
    boxed = last_boxed(text)
    if boxed is not None:
        found = _marked(boxed)
        if found is not _NOT_FOUND:
            return found
    tail = None
    for m in NUMBER.finditer(text):
        tail = m
    if tail is None or _HEDGE_BEFORE.search(text, max(0, tail.start() - 40), tail.start()):
        return None
    return canonical_number(tail.group(0))


@VERIFIERS.register("gsm8k")
class GSM8KVerifier(ChecksExtract, JudgesEquivalence):
    """Exact numeric match of the final answer. Checks are microseconds and cannot hang, so the runner
    does them in its own process (`runs_inline`)."""

    name = "gsm8k"
    # 2: "the answer is N" is found by scanning back from the end (same answers, linear time)
    # 3: the answer is read whole (after the last `=`; fractions, mixed and scaled numbers); hedges fail
    version = "3"
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
