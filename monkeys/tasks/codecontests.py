"""CodeContests (DeepMind, Li et al. 2022): competitive programming, graded on stdin/stdout tests.

As the Large Language Monkeys paper used it: the test split, problems whose statements have no images,
and every test the dataset has (public + private + generated) with the problem's own time limit. Rows come
from `<data dir>/codecontests/test.jsonl[.gz]` (the hub's schema, one problem per line) when it exists,
else from the hub's `deepmind/code_contests`.
"""

from __future__ import annotations

import json
from typing import Any

from monkeys.errors import MonkeysError
from monkeys.tasks.base import TASKS, Problem, Task, TaskOptions, select
from monkeys.tasks.data import load_rows

PYTHON3 = 3  # the dataset's Language enum: 0 unknown, 1 python2, 2 c++, 3 python3, 4 java
PROMPT = (
    "{description}\n\n"
    "Write a Python 3 program that solves the problem above. It reads the input from standard input and "
    "writes the answer to standard output. Put the whole program in one ```python code block.\n"
)


def _tests(row: dict[str, Any]) -> list[dict[str, str]]:
    tests = []
    for kind in ("public_tests", "private_tests", "generated_tests"):
        group = row.get(kind) or {}
        for given, want in zip(group.get("input") or [], group.get("output") or [], strict=False):
            tests.append({"input": given, "output": want})
    return tests


def _time_limit(row: dict[str, Any]) -> float | None:
    limit = row.get("time_limit")
    if not limit:
        return None
    seconds = float(limit.get("seconds") or 0) + float(limit.get("nanos") or 0) / 1e9
    return seconds or None


def _reference(row: dict[str, Any]) -> str:
    sols = row.get("solutions") or {}
    for lang, code in zip(sols.get("language") or [], sols.get("solution") or [], strict=False):
        if lang == PYTHON3:
            return code
    return ""


def to_problem(row: dict[str, Any]) -> Problem:
    return Problem(
        problem_id=str(row["name"]),
        prompt=PROMPT.format(description=row["description"].strip()),
        reference=_reference(row),
        fields={
            "tests": json.dumps(_tests(row)),
            "time_limit": _time_limit(row),
            "memory_limit_bytes": row.get("memory_limit_bytes"),
            "difficulty": row.get("difficulty"),
            "source": row.get("source"),
            "cf_rating": row.get("cf_rating"),
        },
    )


class CodeContests(Task):
    name = "codecontests"
    few_shot = False
    default_verifier = "stdio"
    stop: tuple[str, ...] = ()

    def load(self, options: TaskOptions) -> list[Problem]:
        rows = load_rows(
            options.data_dir,
            ("codecontests/test.jsonl", "codecontests/test.jsonl.gz"),
            "deepmind/code_contests",
            "test",
        )
        problems = [to_problem(r) for r in rows if "<image>" not in r.get("description", "") and _tests(r)]
        if not problems:
            raise MonkeysError("no CodeContests problems with tests and without images were found")
        return select(problems, options)


TASKS.add("codecontests", CodeContests)
