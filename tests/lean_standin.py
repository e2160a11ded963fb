"""A scripted stand-in for the Lean REPL (leanprover-community/repl), for tests on machines without Lean.

It speaks the REPL's protocol as its README and test outputs show it: JSON commands separated by blank
lines; answers pretty-printed JSON followed by a blank line; `env` numbers; `messages` with `severity`,
`pos`, `endPos`, `data` and `sorries` with `goal` and `proofState`, each omitted when empty;
`{"message": ...}` for a command it cannot run. It is not Lean: it "elaborates" by rules of its own, written
independently of monkeys' verifier, so tests check that the verifier decides from what a REPL prints:

- a header of `import` lines loads (once; each load is appended to $STANDIN_LOG when set);
- `theorem NAME BINDERS : CONCL := by` followed by an indented tactic block declares NAME with the type
  `∀ BINDERS, CONCL`; tactics outside its vocabulary give `unknown tactic`, `exact X` of an unknown X gives
  `unknown identifier`; `sorry`/`admit` give a sorry and the "declaration uses `sorry`" warning;
  `native_decide` makes the theorem depend on `Lean.ofReduceBool`; a declared `axiom` used by name makes
  it depend on that axiom; `repeat` never terminates; an unindented line after `:= by` ends the (empty)
  proof with a parse error;
- `#print axioms N` prints the axioms, wrapped over lines as Lean does; `example : T := @N` fails with a type
  mismatch unless T is N's type (up to spaces);
- $STANDIN_CRASH_ON: exit at once on a command containing it; $STANDIN_ALLOC_ON: try to allocate 8 GiB.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time

TACTICS = {
    "linarith",
    "nlinarith",
    "norm_num",
    "omega",
    "simp",
    "ring",
    "ring_nf",
    "decide",
    "rfl",
    "positivity",
    "field_simp",
    "trivial",
    "native_decide",
    "sorry",
    "admit",
    "exact",
    "have",
    "intro",
    "intros",
    "constructor",
    "aesop",
    "simp_all",
    "norm_num1",
    "repeat",
    "apply",
    "rw",
}
STANDARD = ["propext", "Classical.choice", "Quot.sound"]


class Env:
    def __init__(self, decls: dict[str, dict], axioms: set[str]) -> None:
        self.decls, self.axioms = decls, axioms


envs: list[Env] = []


def msg(severity: str, data: str, line: int = 1, col: int = 0) -> dict:
    return {
        "severity": severity,
        "pos": {"line": line, "column": col},
        "endPos": {"line": line, "column": col + 1},
        "data": data,
    }


def answer(obj: dict) -> None:
    out = {k: v for k, v in obj.items() if not (isinstance(v, list) and not v)}
    sys.stdout.write(json.dumps(out, indent=1, ensure_ascii=False) + "\n\n")
    sys.stdout.flush()


def squash(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip()


def elaborate(text: str, env: Env) -> dict:
    decls, axioms = dict(env.decls), set(env.axioms)
    messages: list[dict] = []
    sorries: list[dict] = []
    for m in re.finditer(r"^axiom\s+(\S+)\s*:", text, re.M):
        axioms.add(m.group(1))
        decls[m.group(1)] = {"type": "?", "axioms": {m.group(1)}}
    for m in re.finditer(r"^#print axioms\s+(\S+)", text, re.M):
        name = m.group(1).removeprefix("_root_.")
        if name not in decls:
            messages.append(msg("error", f"unknown constant '{name}'"))
            continue
        used = sorted(decls[name]["axioms"])
        if used:
            body = ",\n ".join(used)
            messages.append(msg("info", f"'{name}' depends on axioms: [{body}]"))
        else:
            messages.append(msg("info", f"'{name}' does not depend on any axioms"))
    for m in re.finditer(r"^example\s*:\s*(.*?)\s*:=\s*@(\S+)\s*$", text, re.M | re.S):
        name = m.group(2).removeprefix("_root_.")
        if name not in decls:
            messages.append(msg("error", f"unknown identifier '{m.group(2)}'"))
        elif squash(decls[name]["type"]) != squash(m.group(1)):
            messages.append(msg("error", f"type mismatch\n  @{name}\nhas type\n  {decls[name]['type']}"))
    th = re.search(r"^theorem\s+(\S+)(.*?):=\s*by[ \t]*\n", text, re.M | re.S)
    if th:
        name, signature = th.group(1), th.group(2)
        level, cut = 0, -1
        for i, ch in enumerate(signature):
            level += ch in "([{⦃" and 1 or 0
            level -= ch in ")]}⦄" and 1 or 0
            if ch == ":" and level == 0 and signature[i - 1 : i] == " ":
                cut = i
                break
        binders, concl = signature[:cut].strip(), signature[cut + 1 :].strip()
        proof = text[th.end() :]
        block = []
        for i, line in enumerate(proof.splitlines()):
            if line.strip() and not line.startswith((" ", "\t")):
                if i == 0 or not block:
                    messages.append(msg("error", f"unexpected token '{line.split()[0]}'; expected tactic", 2))
                break
            block.append(line)
        used = set(STANDARD)
        errors = any(m["severity"] == "error" for m in messages)
        local = set(re.findall(r"[(\[{]\s*([^:()]+?)\s*:", binders))
        local = {w for group in local for w in group.split()}
        for lineno, line in enumerate(block, 2):
            words = re.findall(r"[A-Za-z_][\w.']*", line)
            if not words:
                continue
            if "repeat" in words:
                time.sleep(3600)
            if "sorry" in words or "admit" in words:
                sorries.append(
                    {
                        "proofState": len(sorries),
                        "pos": {"line": lineno, "column": 2},
                        "goal": f"⊢ {concl}",
                        "endPos": {"line": lineno, "column": 7},
                    }
                )
                used.add("sorryAx")
            if "native_decide" in words:
                used.add("Lean.ofReduceBool")
            first = words[0]
            if first in ("have", "intro", "intros") and len(words) > 1:
                local.add(words[1])
            if first not in TACTICS:
                messages.append(msg("error", f"unknown tactic '{first}'", lineno))
                errors = True
            if first == "exact" and len(words) > 1:
                target = words[1].split(".")[0]
                if target in axioms:
                    used.add(target)
                elif target not in decls and words[1] not in local:
                    messages.append(msg("error", f"unknown identifier '{words[1]}'", lineno))
                    errors = True
        if not [line for line in block if line.strip()] and not errors:
            messages.append(msg("error", "expected '{' or tactic", 1))
            errors = True
        if errors:
            used.add("sorryAx")  # Lean adds a declaration that failed with sorryAx (error recovery)
        if sorries:
            messages.append(msg("warning", "declaration uses `sorry`", 1, 8))
        if name in decls:
            messages.append(msg("error", f"'{name}' has already been declared"))
        else:
            decls[name] = {"type": f"∀ {binders}, {concl}" if binders else concl, "axioms": used}
    envs.append(Env(decls, axioms))
    return {"env": len(envs) - 1, "messages": messages, "sorries": sorries}


def handle(cmd: dict) -> dict:
    text = cmd.get("cmd")
    if not isinstance(text, str):
        return {"message": "expected a command"}
    crash = os.environ.get("STANDIN_CRASH_ON")
    if crash and crash in text:
        os._exit(137)
    alloc = os.environ.get("STANDIN_ALLOC_ON")
    if alloc and alloc in text:
        hog = bytearray(8 << 30)  # under RLIMIT_AS this raises MemoryError, as Lean runs out of memory
        hog[-1] = 1
    if "env" not in cmd:
        if not re.match(r"\s*import\s", text):
            return elaborate(text, Env({}, set()))
        log = os.environ.get("STANDIN_LOG")
        if log:
            with open(log, "a") as fh:
                fh.write(f"import {os.getpid()}\n")
        bad = [line for line in text.splitlines() if line.startswith("import ") and "Missing" in line]
        envs.append(Env({}, set()))
        return {
            "env": len(envs) - 1,
            "messages": [msg("error", f"unknown module prefix '{bad[0][7:]}'")] if bad else [],
        }
    n = cmd["env"]
    if not isinstance(n, int) or not 0 <= n < len(envs):
        return {"message": f"Unknown environment {n}."}
    return elaborate(text, envs[n])


def main() -> None:
    buf = ""
    for line in sys.stdin:
        if line.strip():
            buf += line
            continue
        if buf.strip():
            try:
                cmd = json.loads(buf)
            except json.JSONDecodeError as exc:
                answer({"message": f"Could not parse JSON:\n{exc}"})
            else:
                try:
                    answer(handle(cmd))
                except MemoryError:
                    sys.exit(137)
            buf = ""


if __name__ == "__main__":
    main()
