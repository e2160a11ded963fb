"""Pull the program out of a completion, once, for every code verifier.

Chat models wrap code in markdown fences (often with prose around it, sometimes several blocks, sometimes an
unclosed last fence when generation hit max_tokens); base models continue the prompt with bare code. A
completion with nothing that looks like Python yields None, which the verifiers grade `fail` "no code found".
"""

from __future__ import annotations

import ast
import re

FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*([\w+#.-]*)[^\n]*\n(.*?)(?:^[ \t]*\1[ \t]*$|\Z)", re.M | re.S)
PYTHON_TAGS = {"", "python", "py", "python3", "py3", "python2", "pycon", "ipython"}


def fenced_blocks(text: str) -> list[tuple[str, str]]:
    """(language tag, code) for every fenced block, an unterminated last block included."""
    return [(m.group(2).lower(), m.group(3)) for m in FENCE.finditer(text)]


def defines(code: str, name: str) -> bool:
    return re.search(rf"^(?:async\s+)?def\s+{re.escape(name)}\s*\(", code, re.M) is not None


def parses(code: str) -> bool:
    try:
        ast.parse(code)
    except (SyntaxError, ValueError):
        return False
    return True


def extract_python(completion: str, entry_point: str | None = None) -> str | None:
    """The Python program in a completion: a fenced block (the one defining `entry_point`, else the longest
    Python-tagged one), else the whole text if it parses as Python and is not empty; else None."""
    blocks = [code for tag, code in fenced_blocks(completion) if tag in PYTHON_TAGS and code.strip()]
    if blocks:
        if entry_point:
            defining = [b for b in blocks if defines(b, entry_point)]
            if defining:
                return defining[0]
        return max(blocks, key=len)
    text = completion.strip("\n")
    if text.strip() and parses(text) and not _is_prose(text):
        return text + "\n"
    return None


def _is_prose(text: str) -> bool:
    """A lone name or a bare string literal parses as Python but is not a program."""
    try:
        body = ast.parse(text).body
    except SyntaxError:
        return True
    return all(
        isinstance(node, ast.Expr) and isinstance(node.value, (ast.Constant, ast.Name)) for node in body
    )


def humaneval_program(prompt: str, completion: str, entry_point: str) -> str | None:
    """HumanEval: a base model continues the prompt's function body; a chat model may send a fenced whole
    function instead (kept after the prompt, so the prompt's imports still apply and the later def wins)."""
    if not completion.strip():
        return None
    if "```" in completion or "~~~" in completion:
        code = extract_python(completion, entry_point)
        if code is None:
            return None
        if defines(code, entry_point):
            return prompt + "\n\n" + code
        return prompt + code  # a fenced body: still a continuation
    return prompt + completion
