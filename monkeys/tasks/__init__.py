"""Tasks: problems, prompt construction, and each task's default verifier."""

from monkeys.tasks import codecontests, gsm8k, humaneval, jsonl, math, mbpp, minif2f  # noqa: F401  (registers the built-in tasks)
from monkeys.tasks.base import TASKS, Problem, Task, TaskOptions

__all__ = ["TASKS", "Problem", "Task", "TaskOptions"]
