"""MBPP (Austin et al. 2021): short Python functions, graded by three assert statements each.

The test split (task ids 11-510) from `<data dir>/mbpp/test.jsonl[.gz]` (hub schema), or the original
`mbpp/mbpp.jsonl` release (filtered to the test ids), else the hub's `google-research-datasets/mbpp`.
Prompts show the task and its tests, as in the MBPP paper, and ask for the function in a code block.
"""

from __future__ import annotations

import json
from typing import Any

from monkeys.tasks.base import TASKS, Problem, Task, TaskOptions, select
from monkeys.tasks.data import load_rows

TEST_IDS = range(11, 511)
PROMPT = (
    "You are an expert Python programmer, and here is your task: {text} "
    "Your code should pass these tests:\n\n{tests}\n\nWrite the function in one ```python code block.\n"
)


def to_problem(row: dict[str, Any]) -> Problem:
    tests = list(row["test_list"])
    return Problem(
        problem_id=str(row["task_id"]),
        prompt=PROMPT.format(text=row["text"].strip(), tests="\n".join(tests)),
        reference=row["code"],
        fields={
            "task_id": int(row["task_id"]),
            "test_list": json.dumps(tests),
            "test_setup_code": row.get("test_setup_code") or "",
        },
    )


class MBPP(Task):
    name = "mbpp"
    few_shot = False
    default_verifier = "python-tests"
    stop: tuple[str, ...] = ()

    def load(self, options: TaskOptions) -> list[Problem]:
        rows = load_rows(
            options.data_dir,
            ("mbpp/test.jsonl", "mbpp/test.jsonl.gz", "mbpp/mbpp.jsonl"),
            "google-research-datasets/mbpp",
            "test",
            "full",
        )
        rows = [r for r in rows if int(r["task_id"]) in TEST_IDS]
        return select([to_problem(r) for r in rows], options)


TASKS.add("mbpp", MBPP)
