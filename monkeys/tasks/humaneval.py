"""HumanEval: complete a Python function from its signature and docstring; graded by its unit tests."""

from __future__ import annotations

from monkeys.tasks.base import TASKS, Problem, Task, TaskOptions, select
from monkeys.tasks.data import load_rows


class HumanEval(Task):
    name = "humaneval"
    few_shot = False
    default_verifier = "python-tests"
    # A top-level statement after the function body means the model has finished the function.
    stop = ("\ndef ", "\nclass ", "\nif __name__", "\nprint(", "\n#", "\nassert ")

    def load(self, options: TaskOptions) -> list[Problem]:
        rows = load_rows(options.data_dir, "humaneval/HumanEval.jsonl.gz", "openai/openai_humaneval", "test")
        problems = [
            Problem(
                problem_id=r["task_id"],
                prompt=r["prompt"],
                reference=r["canonical_solution"],
                fields={"task_id": r["task_id"], "entry_point": r["entry_point"], "test": r["test"]},
            )
            for r in rows
        ]
        return select(problems, options)


TASKS.add("humaneval", HumanEval)
