"""A plugin package as a user would write one: a task, a verifier and an engine, each one class, each
found by monkeys through an entry point (see pyproject.toml). Used by tests/test_plugins.py."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from monkeys.records import Completion, Problem, Request, SamplingParams, Verdict
from monkeys.sampler.base import Engine
from monkeys.tasks.base import Task, TaskOptions, select
from monkeys.verifiers.base import ChecksExtract


class EchoTask(Task):
    """`n` problems "say i"; the answer to problem i is i. Options: n (int), word (str)."""

    name = "echo-task"
    default_verifier = "echo-checker"
    stop = ("\n",)

    def __init__(self, n: int = 3, word: str = "say") -> None:
        self.n, self.word = n, word

    def load(self, options: TaskOptions) -> list[Problem]:
        problems = [Problem(f"e{i}", f"{self.word} {i}", str(i)) for i in range(self.n)]
        return select(problems, options)


class EchoEngine(Engine):
    """Answers with the prompt's last word when the sample's seed is even, else with `wrong`."""

    name = "echo-engine"

    def __init__(self, model: str | None = None, wrong: str = "nope") -> None:
        self.model, self.wrong = model, wrong

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "version": "1", "wrong": self.wrong}

    def generate(self, requests: Iterable[Request], params: SamplingParams) -> Iterator[Completion]:
        for r in requests:
            texts = tuple(
                f"it is {r.prompt.split()[-1]}" if (r.seed + j) % 2 == 0 else f"it is {self.wrong}"
                for j in range(r.n)
            )
            n = r.n
            yield Completion(r, texts, 2, (3,) * n, ("stop",) * n, (None,) * n)


class EchoChecker(ChecksExtract):
    """The last word must equal the reference; with strict=false, case and a trailing period are ignored."""

    name = "echo-checker"
    version = "1"
    runs_inline = True

    def __init__(self, strict: bool = False) -> None:
        self.strict = strict

    def extract(self, problem: Problem, completion: str) -> str | None:
        words = completion.split()
        if not words:
            return None
        return words[-1] if self.strict else words[-1].rstrip(".").lower()

    def check(self, problem: Problem, completion: str) -> Verdict:
        return self.check_extract(problem, self.extract(problem, completion))

    def check_extract(self, problem: Problem, answer: str | None) -> Verdict:
        if answer is None:
            return Verdict("fail", None, "no answer found")
        ok = answer == problem.reference
        return Verdict("pass" if ok else "fail", answer, "" if ok else f"expected {problem.reference}")

    def gold_completion(self, problem: Problem) -> str:
        return f"it is {problem.reference}"
