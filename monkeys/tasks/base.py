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
    instruction: str | None = None  # the jsonl task: text put before every prompt
    template: str | None = None  # the jsonl task: a prompt template with {prompt} (and {instruction})
    subset: str | None = None  # a named subset of a task's problems (minif2f: mathd, amc, ...)

    def manifest(self, few_shot: bool = True) -> dict[str, object]:
        """The options that decide the prompts. `n_shot` only for tasks with a few-shot prompt; the
        instruction and template only when given (so runs made before they existed still match)."""
        d: dict[str, object] = {
            "data_file": self.data_file,
            "limit": self.limit,
            "offset": self.offset,
            "problem_ids": list(self.problem_ids),
            "seed": self.seed,
        }
        if few_shot:
            d["n_shot"] = self.n_shot
        if self.instruction is not None:
            d["instruction"] = self.instruction
        if self.template is not None:
            d["template"] = self.template
        if self.subset is not None:
            d["subset"] = self.subset
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
    few_shot: bool = (
        False  # whether `n_shot` exemplars shape its prompts (recorded in the manifest only then)
    )

    @abstractmethod
    def load(self, options: TaskOptions) -> list[Problem]:
        """The selected problems, prompts built; raise MonkeysError naming the fix when data is missing."""


TASKS: Registry[Task] = Registry("task", group="monkeys.tasks", base=Task)


def checkout_data_dir() -> Path | None:
    """`shared/data` beside the checkout monkeys runs from (`<checkout>/../shared/data`), if it exists."""
    here = Path(__file__).resolve().parents[2]  # monkeys/tasks/base.py -> the checkout
    candidate = here.parent / "shared" / "data"
    return candidate if candidate.is_dir() else None


def resolve_data_dir(data_dir: str | None) -> Path | None:
    """`--data-dir`, else MONKEYS_DATA_DIR, else `shared/data` beside the checkout, else None (the hub)."""
    chosen = data_dir or os.environ.get("MONKEYS_DATA_DIR")
    if not chosen:
        return checkout_data_dir()
    p = Path(chosen).expanduser()
    if not p.is_dir():
        raise MonkeysError(f"data directory {p} does not exist; fix --data-dir or MONKEYS_DATA_DIR")
    return p


def ensure_hub_reachable(what: str, timeout: float = 3.0) -> None:
    """Fail in one line, within `timeout`, when the Hugging Face hub cannot be reached (instead of the
    hub client's minute of retries). Skipped when the hub is set offline (then the local cache serves)."""
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes") or os.environ.get(
        "HF_DATASETS_OFFLINE", ""
    ).lower() in ("1", "true", "yes"):
        return
    import socket
    from urllib.parse import urlsplit

    endpoint = urlsplit(os.environ.get("HF_ENDPOINT") or "https://huggingface.co")
    host = endpoint.hostname or "huggingface.co"
    port = endpoint.port or (443 if endpoint.scheme == "https" else 80)
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as exc:
        raise MonkeysError(
            f"cannot reach the Hugging Face hub at {host}:{port} ({exc.strerror or exc}) to load {what}; "
            "pass --data-dir with a local copy (laid out like shared/data) or set MONKEYS_DATA_DIR"
        ) from None


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
