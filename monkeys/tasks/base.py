"""What a task is: problems, prompt construction and the name of its default verifier."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from monkeys.errors import MonkeysError
from monkeys.records import Problem
from monkeys.registry import Registry


@dataclass(frozen=True)
class TaskOptions:
    """How to select and prompt a task's problems. Recorded in the run manifest."""

    data_dir: str | None = None  # local copy laid out like shared/data; None: the Hugging Face hub
    data_file: str | None = None  # the `jsonl` task's own file
    limit: int | None = None
    offset: int = 0
    problem_ids: tuple[str, ...] = ()  # a fixed subset, applied before offset/limit
    seed: int = 0  # chooses few-shot exemplars
    n_shot: int = 5

    def manifest(self) -> dict[str, object]:
        d = {
            "data_file": self.data_file,
            "limit": self.limit,
            "offset": self.offset,
            "problem_ids": list(self.problem_ids),
            "seed": self.seed,
            "n_shot": self.n_shot,
        }
        return d


class Task(ABC):
    """A task loads its problems (with prompts built) and names the verifier that grades them.

    `stop` strings end every sample of the task; `default_verifier` names the verifier `monkeys verify`
    uses when none is given (it may depend on the data: the jsonl task infers it from the rows). The
    task's own construction arguments are its options (`-T key=value`, typed by its signature), recorded
    in the run manifest; selection (limit, offset, problem ids, few-shot seed) comes in `TaskOptions`."""

    name: str
    default_verifier: str
    stop: tuple[str, ...] = ()

    @abstractmethod
    def load(self, options: TaskOptions) -> list[Problem]:
        """The selected problems, prompts built; raise MonkeysError naming the fix when data is missing."""


TASKS: Registry[Task] = Registry("task", group="monkeys.tasks", base=Task)


def resolve_data_dir(data_dir: str | None) -> Path | None:
    """`--data-dir`, else MONKEYS_DATA_DIR, else None (load from the hub)."""
    chosen = data_dir or os.environ.get("MONKEYS_DATA_DIR")
    if not chosen:
        return None
    p = Path(chosen).expanduser()
    if not p.is_dir():
        raise MonkeysError(f"data directory {p} does not exist; fix --data-dir or MONKEYS_DATA_DIR")
    return p


def select(problems: Sequence[Problem], options: TaskOptions) -> list[Problem]:
    """Apply the fixed subset, then offset and limit, with clear errors for impossible requests."""
    chosen = list(problems)
    if options.problem_ids:
        by_id = {p.problem_id: p for p in chosen}
        missing = [i for i in options.problem_ids if i not in by_id]
        if missing:
            raise MonkeysError(f"problem id(s) {missing[:5]} are not in this task; check --problems")
        chosen = [by_id[i] for i in options.problem_ids]
    if options.offset < 0:
        raise MonkeysError(f"--offset must be >= 0, got {options.offset}")
    if options.limit is not None and options.limit < 1:
        raise MonkeysError(f"--limit must be >= 1, got {options.limit}")
    if options.offset >= len(chosen) and chosen:
        raise MonkeysError(f"--offset {options.offset} is past the last of {len(chosen)} problems")
    end = None if options.limit is None else options.offset + options.limit
    return chosen[options.offset : end]
