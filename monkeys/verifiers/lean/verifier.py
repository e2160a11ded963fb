"""The `lean` verifier: proofs of miniF2F-style statements, checked by a pool of Lean REPLs.

The Lake project made by `monkeys lean setup` holds `monkeys-lean.json`: the REPL command, the Lean
toolchain and the Mathlib revision. Those versions are part of the verifier's version, so cached verdicts
are keyed by (statement, proof, toolchain, Mathlib). Identical proofs of a theorem are checked once.
See `soundness` for when a proof counts; a Lean fault (out of memory, a crash, no answer about axioms) is
`error`, a proof past its time limit `timeout`, never `pass`.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from monkeys.errors import MonkeysError
from monkeys.records import Problem, Verdict
from monkeys.verifiers.base import ChecksBatch
from monkeys.verifiers.lean import soundness
from monkeys.verifiers.lean.repl import ReplConfig, ReplDied, ReplPool, ReplTimeout, run_all

CONFIG = "monkeys-lean.json"
MAX_PROOF_CHARS = 20_000


def read_project(project: str | Path) -> dict[str, Any]:
    path = Path(project).expanduser() / CONFIG
    if not path.is_file():
        raise MonkeysError(
            f"{Path(project)} is not a Lean project made by `monkeys lean setup` (no {CONFIG}); "
            "run `monkeys lean setup --dir DIR` on a machine with internet, then pass --lean-project DIR"
        )
    try:
        conf = json.loads(path.read_text())
        command = [str(x) for x in conf["repl"]]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise MonkeysError(f"{path} is damaged ({exc}); rerun `monkeys lean setup --dir {project}`") from None
    return {**conf, "repl": command}


def extract_proof(completion: str, statement: str) -> str | None:
    """The tactic proof in a completion that continues `statement` (which ends in `:= by`).

    Three shapes: the bare continuation (up to a closing fence), a fenced block that restates the theorem
    (the proof after its `:= by`), or a fenced block holding only tactics. Empty → None."""
    text = completion
    name = soundness.parse_statement(statement).name
    restated = re.search(rf"theorem\s+{re.escape(name)}\b.*?:=\s*by\b", text, re.S)
    if restated:
        text = text[restated.end() :]
    else:
        fence = re.search(r"```(?:lean4?|)\s*\n", text)
        if fence and not text[: fence.start()].strip():
            text = text[fence.end() :]
    end = text.find("```")
    if end >= 0:
        text = text[:end]
    if not text.strip():
        return None
    lines = text.rstrip().splitlines()
    while lines and not lines[0].strip():
        lines.pop(0)
    if lines and lines[0].startswith(" ") and not lines[0].startswith("  "):
        lines[0] = " " + lines[0]  # `by tac` on the statement's line: keep the block's indentation even
    if lines and lines[0].strip() and not lines[0].startswith((" ", "\t")):
        lines = ["  " + line if line.strip() else line for line in lines]  # a tactic block must be indented
    return "\n".join(lines).rstrip() + "\n"


class LeanVerifier(ChecksBatch):
    """Lean 4 proofs checked by the Lean REPL: no errors, no sorry, the exact statement, standard axioms."""

    name = "lean"
    version = "1"  # the instance's version adds the project's toolchain and Mathlib revision

    def __init__(
        self,
        lean_project: str | None = None,
        workers: int | None = None,
        timeout: float | None = None,
        memory_mb: int = 16_384,
        max_uses: int = 200,
    ) -> None:
        if lean_project is None:
            raise MonkeysError(
                "the lean verifier needs a Lean project: pass --lean-project DIR (made by `monkeys lean setup`)"
            )
        conf = read_project(lean_project)
        self.project = str(Path(lean_project).expanduser())
        self.toolchain = str(conf.get("toolchain", "?"))
        self.mathlib = str(conf.get("mathlib", "?"))
        self.version = f"1+{self.toolchain}+mathlib-{self.mathlib}"  # type: ignore[misc]
        self.workers = workers or 1
        self.timeout = float(timeout or 60.0)
        self.config = ReplConfig(
            tuple(conf["repl"]), conf.get("cwd") or self.project, memory_mb=memory_mb, max_uses=max_uses
        )
        self._pool: ReplPool | None = None

    @property
    def pool(self) -> ReplPool:
        if self._pool is None:
            self._pool = ReplPool(self.config, self.workers)
        return self._pool

    def extract(self, problem: Problem, completion: str) -> str | None:
        return extract_proof(completion, str(problem.fields["formal_statement"]))

    def gold_completion(self, problem: Problem) -> str:
        return ""  # miniF2F ships no proofs: only the empty-completion canary runs

    def check(self, problem: Problem, completion: str) -> Verdict:
        return self.check_batch([(problem, completion)])[0]

    def check_batch(self, items: Sequence[tuple[Problem, str]]) -> list[Verdict]:
        """Identical proofs of a theorem are checked once, on `workers` REPLs in parallel."""
        keys: list[tuple[str, str] | None] = []
        unique: dict[tuple[str, str], Problem] = {}
        for problem, completion in items:
            proof = self.extract(problem, completion)
            key = None if proof is None else (problem.problem_id, proof)
            keys.append(key)
            if key is not None:
                unique.setdefault(key, problem)
        jobs = [(p, k[1]) for k, p in unique.items()]
        graded = dict(zip(unique, run_all(self.pool, jobs, self._check_one, self.workers), strict=True))
        return [
            Verdict("fail", None, "no proof found in the completion") if k is None else graded[k]
            for k in keys
        ]

    def _check_one(self, pool: ReplPool, job: tuple[Problem, str]) -> Verdict:
        problem, proof = job
        t0 = time.monotonic()
        statement_text = str(problem.fields["formal_statement"])
        lines = len(proof.strip().splitlines())
        if len(proof) > MAX_PROOF_CHARS:
            return Verdict("fail", proof[:200], f"proof longer than {MAX_PROOF_CHARS} characters", 0.0)
        bad = soundness.forbidden(proof)
        if bad is not None:
            return Verdict("fail", proof, f"forbidden: the proof uses {bad}", 0.0)
        statement = soundness.parse_statement(statement_text)
        header = str(problem.fields.get("header") or "")
        try:
            repl = pool.lease(header)
        except (ReplDied, ReplTimeout) as exc:
            return Verdict("error", proof, f"Lean did not start: {exc}", time.monotonic() - t0)
        except OSError as exc:
            return Verdict("error", proof, f"Lean did not start: {exc}", time.monotonic() - t0)
        try:
            left = self.timeout
            answer = repl.send({"cmd": statement_text + proof, "env": repl.header_env}, left)
            left = self.timeout - (time.monotonic() - t0)
            checked: dict[str, Any] = {}
            if "env" in answer and soundness.first_error(answer) is None and not soundness.uses_sorry(answer):
                checked = repl.send(
                    {"cmd": soundness.check_command(statement), "env": int(answer["env"])}, max(left, 5.0)
                )
            judged = soundness.judge(statement, answer, checked or {"env": None})
        except ReplTimeout:
            return Verdict(
                "timeout", proof, f"no answer from Lean within {self.timeout:g}s", time.monotonic() - t0
            )
        except ReplDied as exc:
            return Verdict("error", proof, f"Lean failed: {exc}", time.monotonic() - t0)
        finally:
            pool.give_back(repl)
        seconds = time.monotonic() - t0
        detail = f"{judged.detail} ({lines} lines, {seconds:.1f}s)"
        if judged.rule != "ok":
            detail = f"{judged.rule}: {detail}"
        return Verdict(judged.verdict, proof, detail, seconds)  # type: ignore[arg-type]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
