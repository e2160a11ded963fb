"""Finding the final answer of a MATH-style completion and normalising LaTeX answers to a canonical string.

Every function here is linear in the length of its input (plain scans, no backtracking regexes over the
whole completion), so a 10 MB completion costs milliseconds, not minutes.
"""

from __future__ import annotations

import functools
import re

HOPE = "I hope it is correct"
FINAL = "final answer is"
_MATHLIKE = re.compile(r"[$\\\d(\[{.+−-]")
_BRACE = re.compile(r"\\.|[{}]", re.S)  # an escaped character (skipped) or a brace
MAX_ANSWER_CHARS = 1000  # no MATH answer is longer; longer "answers" fail without reaching SymPy


def _closing_braces(text: str, start: int = 0) -> dict[int, int]:
    """Position of each `{` from `start` on → position of its matching `}` (escaped braces skipped), in one
    linear pass. A brace's match depends only on the text after it, so starting late loses nothing."""
    match: dict[int, int] = {}
    stack: list[int] = []
    for m in _BRACE.finditer(text, start):
        c = m.group(0)
        if c == "{":
            stack.append(m.start())
        elif c == "}" and stack:
            match[stack.pop()] = m.start()
    return match


def boxed_spans(text: str) -> list[tuple[int, str]]:
    """(position, content) of every balanced `\\boxed{...}` / `\\fbox{...}` (and `\\boxed 5`), in order."""
    found: list[tuple[int, str]] = []
    closing: dict[int, int] | None = None
    for m in re.finditer(r"\\(?:boxed|fbox)", text):
        j = m.end()
        while j < len(text) and text[j] == " ":
            j += 1
        if j < len(text) and text[j] == "{":
            if closing is None:
                closing = _closing_braces(text, m.start())
            end = closing.get(j)
            if end is not None:
                found.append((m.start(), text[j + 1 : end]))
        elif j > m.end() and j < len(text):  # `\\boxed 5`: up to the next `$` or whitespace
            end = j
            while end < len(text) and text[end] not in " $\n":
                end += 1
            found.append((m.start(), text[j:end]))
    return found


def last_boxed(text: str) -> str | None:
    """Content of the last balanced `\\boxed{}`/`\\fbox{}` in `text` (nested braces kept), or None."""
    spans = boxed_spans(text)
    return spans[-1][1] if spans else None


def minerva_answer(text: str) -> tuple[int, str] | None:
    """(position, answer) of the last "final answer is X" (Minerva: "Final Answer: The final answer is X.
    I hope it is correct."); X runs to "I hope it is correct" or the end of its line.

    Prose such as "The final answer is positive, because ..." is not an answer: without the Minerva frame
    ("Final Answer:" before or "I hope it is correct" after), X must start like math ($, \\, digit, sign,
    bracket)."""
    low = text.lower()
    at = low.rfind(FINAL)
    if at < 0:
        return None
    start = at + len(FINAL)
    hope = text.find(HOPE, start)
    newline = text.find("\n", start)
    end = min(x for x in (hope, newline, len(text)) if x >= 0)
    answer = text[start:end].strip().lstrip(":").strip()
    framed = (hope >= 0 and hope == end) or low[max(0, at - 20) : at].rstrip().endswith("final answer:")
    if not framed and not _MATHLIKE.match(answer):
        return None
    if answer.endswith("."):
        answer = answer[:-1].rstrip()
    if answer.startswith("$") and answer.endswith("$") and len(answer) >= 2:
        answer = answer.strip("$").strip()
    inner = last_boxed(answer)
    if inner is not None:
        answer = inner
    return (at, answer) if answer else None


def final_answer(text: str) -> str | None:
    """The completion's final answer: whichever of the last boxed answer and the Minerva sentence comes last.

    A completion that runs on into a new few-shot problem is cut after its first "I hope it is correct"."""
    hope = text.find(HOPE)
    if hope >= 0:
        text = text[: hope + len(HOPE)]
    spans = boxed_spans(text)
    boxed = spans[-1] if spans else None
    minerva = minerva_answer(text)
    if boxed is None and minerva is None:
        return None
    if minerva is None or (boxed is not None and boxed[0] > minerva[0]):
        assert boxed is not None
        return boxed[1].strip() or None
    return minerva[1]


# -- normalisation ------------------------------------------------------------------------------------
_REMOVE = (
    "\\left",
    "\\right",
    "\\!",
    "\\,",
    "\\;",
    "\\:",
    "\\displaystyle",
    "^{\\circ}",
    "^\\circ",
    "\\circ",
    "\\%",
    "%",
    "\\$",
)
_UNIT_TEXT = re.compile(
    r"\\(?:text|mbox|mathrm)\{\s+[^{}]*\}\s*$"
)  # "5\text{ cm}" (units start with a space)
_TEXT_WRAP = re.compile(r"\\(?:text|textbf|mbox|mathrm)\{([^{}]*)\}")
_FRAC_SHORT = re.compile(r"\\frac(\d)(\d)")
_FRAC_HALF = re.compile(r"\\frac\{([^{}]*)\}(\d)")
_FRAC_HALF2 = re.compile(r"\\frac(\d)\{([^{}]*)\}")
_SQRT_SHORT = re.compile(r"\\sqrt(\d)")
_THOUSANDS = re.compile(r"^-?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
_LEADING_VAR = re.compile(r"^[a-zA-Z](?:_\{?\w+\}?)?=")
_SPACE = re.compile(r"\s+")
_LATEX_SPACE = re.compile(r"(?<!\\)\\ ")  # `\ ` but not the row break `\\ `
_LONE_SPACE = re.compile(r" (?![A-Za-z])|(?<![A-Za-z]) ")


@functools.lru_cache(maxsize=1 << 16)  # samples repeat answers; this is pure and costs ~20 regex passes
def normalize(answer: str) -> str:
    """A canonical spelling of a LaTeX answer, so `\\dfrac12`, `\\frac{1}{2}` and `$\\frac{1}{2}$.` agree.

    Only rewrites that keep the meaning (up to MATH's conventions: units, degrees and percent signs are
    dropped, as in Hendrycks et al.'s grader)."""
    s = answer.strip()
    if s.endswith(".") and s.startswith("$"):
        s = s[:-1].rstrip()
    while len(s) >= 2 and s[0] == "$" and s[-1] == "$":
        s = s[1:-1].strip()
    if s.startswith("\\(") and s.endswith("\\)"):
        s = s[2:-2]
    if s.startswith("\\[") and s.endswith("\\]"):
        s = s[2:-2]
    s = s.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac").replace("\\cfrac", "\\frac")
    s = s.replace("−", "-").replace("\n", " ")
    for token in _REMOVE:
        s = s.replace(token, "")
    s = _UNIT_TEXT.sub("", s)
    s = _TEXT_WRAP.sub(r"\1", s)
    s = _LATEX_SPACE.sub(" ", s).replace("~", " ")
    s = _SPACE.sub(" ", s).strip()
    s = _LONE_SPACE.sub("", s)  # keep only spaces between letters: `\pi r` must not become `\pir`
    s = _FRAC_SHORT.sub(r"\\frac{\1}{\2}", s)
    s = _FRAC_HALF.sub(r"\\frac{\1}{\2}", s)
    s = _FRAC_HALF2.sub(r"\\frac{\1}{\2}", s)
    s = _SQRT_SHORT.sub(r"\\sqrt{\1}", s)
    if _LEADING_VAR.match(s) and s.count("=") == 1:
        s = s.split("=", 1)[1]
    while s.endswith(".") or s.endswith("\\"):
        s = s[:-1].rstrip()
    if _THOUSANDS.match(s):
        s = s.replace(",", "")
    if s.startswith("."):
        s = "0" + s
    s = s.replace("{.", "{0.")
    return s
