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
_BOX = re.compile(r"\\(?:boxed|fbox)")
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
    return [(start, content) for start, _, content in _boxes(text)]


def _boxes(text: str) -> list[tuple[int, int, str]]:
    """(start, end, content) of every box, in order; `end` is just past the box."""
    found: list[tuple[int, int, str]] = []
    if "\\boxed" not in text and "\\fbox" not in text:  # no box: a substring test is 5x cheaper
        return found
    closing: dict[int, int] | None = None
    for m in _BOX.finditer(text):
        j = m.end()
        while j < len(text) and text[j] == " ":
            j += 1
        if j < len(text) and text[j] == "{":
            if closing is None:
                closing = _closing_braces(text, m.start())
            end = closing.get(j)
            if end is not None:
                found.append((m.start(), end + 1, text[j + 1 : end]))
        elif j > m.end() and j < len(text):  # `\\boxed 5`: up to the next `$` or whitespace
            end = j
            while end < len(text) and text[end] not in " $\n":
                end += 1
            found.append((m.start(), end, text[j:end]))
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


_SET_GAP = re.compile(
    r"(?:\s|\$|,|;|\\[,;:! ]|\\quad|\\qquad|\\text\{\s*(?:and|or)?\s*\}|\band\b|\\\(|\\\))*"
)


def _answer_set(text: str, boxes: list[tuple[int, int, str]]) -> str:
    """The last box, joined with the boxes before it when only commas, "and" or spacing separate them
    (`\\boxed{-2} and \\boxed{1}` is the answer set `-2, 1`)."""
    parts = [boxes[-1][2].strip()]
    for prev, nxt in zip(reversed(boxes[:-1]), reversed(boxes[1:]), strict=True):
        gap = text[prev[1] : nxt[0]]
        if not gap.strip() or _SET_GAP.fullmatch(gap) is None or not re.search(r",|\band\b|;", gap):
            break
        parts.append(prev[2].strip())
    return ", ".join(reversed(parts))


def final_answer(text: str, lenient: bool = False, answer_set: bool = True) -> str | None:
    """The completion's final answer: whichever of the last boxed answer (with `answer_set`, together with
    the boxes listed just before it, as one answer set) and the Minerva sentence comes last.

    A completion that runs on into a new few-shot problem is cut after its first "I hope it is correct".
    `lenient`: when neither is there, also read a prose answer ("Answer: $9$", "Final Answer: The largest
    $n$ is 34."; see `prose_answer`)."""
    hope = text.find(HOPE)
    if hope >= 0:
        text = text[: hope + len(HOPE)]
    boxes = _boxes(text)
    boxed = boxes[-1] if boxes else None
    minerva = minerva_answer(text)
    if boxed is None and minerva is None:
        return prose_answer(text) if lenient else None
    if minerva is None or (boxed is not None and boxed[0] > minerva[0]):
        assert boxed is not None
        return (_answer_set(text, boxes) if answer_set else boxed[2].strip()) or None
    return minerva[1]


_PROSE = re.compile(r"(?:final answer|answer)\s*(?::|is\b)", re.I)
_MATH_SPAN = re.compile(r"\$\$(.+?)\$\$|\$(.+?)\$|\\\((.+?)\\\)|\\\[(.+?)\\\]")
_IS = re.compile(r"\b(?:is|are|equals|was)\b|=", re.I)


def prose_answer(text: str) -> str | None:
    """The answer of the last "Answer: ..." / "Final Answer: ..." / "the answer is ..." line: its first math
    span after its last "is" or "=" (`Answer: $9$`, `The area is $12\\pi$ square units`), else what follows
    that "is" when it is short and starts like math (`The largest $n$ is 34.`). None otherwise."""
    last = None
    for m in _PROSE.finditer(text):
        last = m
    if last is None:
        return None
    end = text.find("\n", last.end())
    line = text[last.end() : end if end >= 0 else len(text)].strip().strip("*").strip()
    line = re.sub(r"[.\s]+$", "", line)
    spans = list(_MATH_SPAN.finditer(line))
    marks = [m for m in _IS.finditer(line) if not any(x.start() <= m.start() < x.end() for x in spans)]
    after = marks[-1].end() if marks else 0
    later = [x for x in spans if x.start() >= after]
    if later:  # the first math after the last "is" (or the line's math when it has no "is")
        inner = next(g for g in later[0].groups() if g is not None).strip()
        return inner.rstrip(".").strip() or None
    rest = line[after:].strip()
    rest = rest.strip("$ ").rstrip(".").strip()
    if not rest or len(rest) > 100 or not _MATHLIKE.match(rest):
        return None
    return rest


def is_list(answer: str) -> bool:
    """Whether a (normalised) answer is a bare list: a comma outside every bracket (`-2, 1`, not `(1,2)`)."""
    depth = 0
    for c in answer:
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == "," and depth == 0:
            return True
    return False


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
    r"\\(?:text|mbox|mathrm)\{\s+[^{}]*\}(?:\^\{?[23]\}?)?\s*$"
)  # "5\text{ cm}" (units start with a space)
_TEXT_WRAP = re.compile(r"\\(?:text|textbf|mbox|mathrm)\{([^{}]*)\}")
_FRAC_SHORT = re.compile(r"\\frac(\d)(\d)")
_FRAC_HALF = re.compile(r"\\frac\{([^{}]*)\}(\d)")
_FRAC_HALF2 = re.compile(r"\\frac(\d)\{([^{}]*)\}")
_SQRT_SHORT = re.compile(r"\\sqrt(\d)")
_THOUSANDS = re.compile(r"^-?[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?\.?$")
_PERCENT_WORD = re.compile(r"\s*(?:percent|pct)\.?$")
_BRACED_COMMA = re.compile(r"(?<=\d)\{,\}(?=\d{3})")
_SPACE = re.compile(r"\s+")
_LATEX_SPACE = re.compile(r"(?<!\\)\\ ")  # `\ ` but not the row break `\\ `
_LONE_SPACE = re.compile(r" (?![A-Za-z])|(?<![A-Za-z]) ")


@functools.lru_cache(maxsize=1 << 16)  # samples repeat answers; this is pure and costs ~20 regex passes
def normalize(answer: str) -> str:
    """A canonical spelling of a LaTeX answer, so `\\dfrac12`, `\\frac{1}{2}` and `$\\frac{1}{2}$.` agree.

    Only rewrites that keep the meaning (up to MATH's conventions: units, degrees and percent signs are
    dropped, as in Hendrycks et al.'s grader). It never drops a variable (`y = 2x` stays an equation) and
    reads a comma as a thousands separator only in one number written without spaces whose first group is
    not 0 (`1,000`; not `32, 349` or `0,111`)."""
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
    s = _PERCENT_WORD.sub("", s)
    s = _BRACED_COMMA.sub(",", s)
    for token in _REMOVE:
        s = s.replace(token, "")
    s = _UNIT_TEXT.sub("", s)
    s = _TEXT_WRAP.sub(r"\1", s)
    s = _LATEX_SPACE.sub(" ", s).replace("~", " ")
    s = _SPACE.sub(" ", s).strip()
    if _THOUSANDS.match(s):
        s = s.replace(",", "")
    s = _LONE_SPACE.sub("", s)  # keep only spaces between letters: `\pi r` must not become `\pir`
    s = _FRAC_SHORT.sub(r"\\frac{\1}{\2}", s)
    s = _FRAC_HALF.sub(r"\\frac{\1}{\2}", s)
    s = _FRAC_HALF2.sub(r"\\frac{\1}{\2}", s)
    s = _SQRT_SHORT.sub(r"\\sqrt{\1}", s)
    while s.endswith(".") or s.endswith("\\"):
        s = s[:-1].rstrip()
    if s.startswith("."):
        s = "0" + s
    s = s.replace("{.", "{0.")
    return s
