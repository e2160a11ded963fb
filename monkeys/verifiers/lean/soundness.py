"""When a Lean proof counts: every rule decided from what the Lean REPL prints, nothing from our own guess.

A candidate passes only if all of these hold (the verdict detail names the first rule that failed):

1. `forbidden`: the proof text uses nothing that can change what Lean checks: no `sorry`/`admit`, no new
   `axiom`, no `set_option` of `debug.*` (e.g. `debug.skipKernelTC` skips the kernel), no `unsafe`,
   `implemented_by`, `extern`, `opaque`, no `run_cmd`/`run_elab`/`run_meta`/`#eval`, no `elab`/`macro`/
   `syntax`/`notation` declarations, no `import`. This is defence in depth: rules 2-5 decide on Lean's output.
2. `lean error`: the REPL reports no message of severity `error` for the theorem and its checks.
3. `sorry`: no `sorries` in the response and no "declaration uses sorry" warning.
4. `statement`: the theorem is our statement, verbatim (we write the statement and append the proof), and in
   the environment after the proof `example : ∀ binders, conclusion := @_root_.NAME` elaborates: the name
   proved is the name asked, with the type asked.
5. `axioms`: `#print axioms _root_.NAME` lists only `propext`, `Classical.choice` and `Quot.sound` (so
   `native_decide` → `Lean.ofReduceBool`, `sorryAx` and any declared axiom fail). No axioms line → `error`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

ALLOWED_AXIOMS = frozenset({"propext", "Classical.choice", "Quot.sound"})

_FORBIDDEN = [
    (re.compile(r"(?<![\w.])(sorry|admit)(?![\w.'])"), "sorry or admit"),
    (re.compile(r"(?<![\w.])axiom(?![\w.'])"), "a new axiom"),
    (re.compile(r"set_option\s+debug\."), "a debug option (debug.* can skip the kernel's check)"),
    (
        re.compile(r"(?<![\w.])(unsafe|implemented_by|extern|opaque|partial)(?![\w.'])"),
        "unsafe or opaque code",
    ),
    (
        re.compile(r"(?<![\w.])(run_cmd|run_elab|run_meta|run_tac)(?![\w.'])|#eval|#exit"),
        "meta code run at check time",
    ),
    (
        re.compile(
            r"^\s*(elab|macro|macro_rules|syntax|notation|infix|infixl|infixr|prefix|postfix|elab_rules)\b",
            re.M,
        ),
        "a new syntax or elaborator",
    ),
    (re.compile(r"^\s*import\b", re.M), "an import"),
    (
        re.compile(r"native_decide|ofReduceBool|ofReduceNat|Lean\.trustCompiler"),
        "native code trusted as proof",
    ),
]


def forbidden(proof: str) -> str | None:
    """The first forbidden construct in the proof text, or None. Comments are ignored."""
    text = re.sub(r"/-.*?-/", " ", proof, flags=re.S)
    text = re.sub(r"--[^\n]*", " ", text)
    for pattern, what in _FORBIDDEN:
        if pattern.search(text):
            return what
    return None


@dataclass(frozen=True)
class Statement:
    """`theorem NAME BINDERS : CONCLUSION := by`, split where Lean would."""

    name: str
    binders: str
    conclusion: str

    def as_type(self) -> str:
        return f"∀ {self.binders}, {self.conclusion}" if self.binders.strip() else self.conclusion


def parse_statement(statement: str) -> Statement:
    """Split a formal statement at its top-level ` : ` (outside brackets) and its final `:= by`."""
    m = re.match(r"\s*(theorem|lemma)\s+(\S+)", statement)
    if not m:
        raise ValueError("a formal statement must start with `theorem NAME`")
    body = statement[m.end() :].rstrip()
    if not body.endswith(":= by"):
        raise ValueError("a formal statement must end in `:= by`")
    body = body[: -len(":= by")].rstrip()
    depth = 0
    opening, closing = "([{⦃⟨", ")]}⦄⟩"
    for i, ch in enumerate(body):
        if ch in opening:
            depth += 1
        elif ch in closing:
            depth -= 1
        elif ch == ":" and depth == 0 and body[i + 1 : i + 2] != "=" and (i == 0 or body[i - 1] in " \n\t"):
            return Statement(m.group(2), body[:i].strip(), body[i + 1 :].strip())
    raise ValueError("no top-level ` : ` between the binders and the conclusion")


def check_command(statement: Statement) -> str:
    """The command run after the proof: the axioms it uses, and that NAME has the statement's type."""
    name = f"_root_.{statement.name}"
    return f"#print axioms {name}\n\nexample : {statement.as_type()} := @{name}"


def messages(response: dict[str, Any]) -> list[dict[str, Any]]:
    out = response.get("messages") or []
    return [m for m in out if isinstance(m, dict)]


def first_error(response: dict[str, Any]) -> str | None:
    for m in messages(response):
        if m.get("severity") == "error":
            return str(m.get("data", "")).strip().splitlines()[0][:200] if m.get("data") else "error"
    return None


def uses_sorry(response: dict[str, Any]) -> bool:
    if response.get("sorries"):
        return True
    return any(
        m.get("severity") == "warning"
        and re.search(r"declaration uses ['`]sorry['`]", str(m.get("data", "")))
        for m in messages(response)
    )


_AXIOMS = re.compile(r"'([^']+)' depends on axioms:\s*\[([^\]]*)\]", re.S)
_NO_AXIOMS = re.compile(r"'([^']+)' does not depend on any axioms")


def axioms_of(response: dict[str, Any], name: str) -> set[str] | None:
    """The axioms `#print axioms` listed for `name` (None when it printed nothing about it)."""
    wanted = {name, f"_root_.{name}"}
    for m in messages(response):
        if m.get("severity") != "info":
            continue
        data = str(m.get("data", ""))
        for found, listed in _AXIOMS.findall(data):
            if found in wanted:
                return {a.strip() for a in listed.replace("\n", " ").split(",") if a.strip()}
        for found in _NO_AXIOMS.findall(data):
            if found in wanted:
                return set()
    return None


@dataclass(frozen=True)
class Judgement:
    verdict: str  # pass | fail | error
    rule: str  # the rule that decided: "ok", "lean error", "sorry", "statement", "axioms", ...
    detail: str


def judge(statement: Statement, proof_response: dict[str, Any], check_response: dict[str, Any]) -> Judgement:
    """Apply rules 2-5 to the REPL's responses for `statement + proof` and for `check_command`."""
    for response in (proof_response, check_response):
        if "message" in response and "env" not in response:  # the REPL refused the command itself
            return Judgement("error", "repl", f"the Lean REPL answered: {str(response['message'])[:200]}")
    err = first_error(proof_response)
    if err is not None:
        return Judgement("fail", "lean error", f"Lean: {err}")
    if uses_sorry(proof_response):
        return Judgement("fail", "sorry", "the proof uses sorry")
    if uses_sorry(check_response):
        return Judgement("fail", "sorry", "the statement check saw sorry")
    err = first_error(check_response)
    if err is not None:
        return Judgement("fail", "statement", f"{statement.name} does not have the statement's type: {err}")
    axioms = axioms_of(check_response, statement.name)
    if axioms is None:
        return Judgement("error", "axioms", f"#print axioms said nothing about {statement.name}")
    extra = sorted(axioms - ALLOWED_AXIOMS)
    if extra:
        return Judgement("fail", "axioms", f"uses axioms beyond the standard three: {', '.join(extra)}")
    return Judgement("pass", "ok", "proof checked; axioms: " + (", ".join(sorted(axioms)) or "none"))
