"""MATH (Hendrycks et al.) test split and its 500-problem subset, prompted few-shot in Minerva style."""

from __future__ import annotations

import hashlib

import numpy as np

from monkeys.tasks.base import TASKS, Problem, Task, TaskOptions, select
from monkeys.tasks.data import load_rows
from monkeys.verifiers.answer.latex import last_boxed  # the one parser of \boxed{}, shared with the verifiers

# Our own worked examples, in the Minerva answer format the `math` verifier reads.
EXEMPLARS: tuple[tuple[str, str, str], ...] = (
    (
        "What is the value of $3^2 + 4^2$?",
        "We have $3^2 = 9$ and $4^2 = 16$, so the sum is $9 + 16 = 25$.",
        "25",
    ),
    (
        "Solve for $x$: $5x - 7 = 18$.",
        "Adding $7$ to both sides gives $5x = 25$, and dividing by $5$ gives $x = 5$.",
        "5",
    ),
    (
        "Write $\\frac{12}{18}$ in lowest terms.",
        "The greatest common divisor of $12$ and $18$ is $6$, so $\\frac{12}{18} = \\frac{12 \\div 6}{18 \\div 6} = \\frac{2}{3}$.",
        "\\frac{2}{3}",
    ),
    (
        "How many positive divisors does $36$ have?",
        "Since $36 = 2^2 \\cdot 3^2$, each divisor is $2^a 3^b$ with $0 \\le a, b \\le 2$, so there are $(2+1)(2+1) = 9$ divisors.",
        "9",
    ),
    (
        "What is the distance between the points $(1, 2)$ and $(4, 6)$?",
        "The distance is $\\sqrt{(4-1)^2 + (6-2)^2} = \\sqrt{9 + 16} = \\sqrt{25} = 5$.",
        "5",
    ),
)


def stable_key(problem_id: str) -> int:
    """An integer that depends on the problem id alone, so prompts never depend on the selection."""
    return int(hashlib.sha256(problem_id.encode()).hexdigest()[:8], 16)


def format_exemplar(problem: str, solution: str, answer: str) -> str:
    final = f"Final Answer: The final answer is ${answer}$. I hope it is correct."
    return f"Problem:\n{problem}\n\nSolution:\n{solution}\n{final}\n\n"


def build_prompt(problem: str, options: TaskOptions, key: int) -> str:
    n = max(0, min(options.n_shot, len(EXEMPLARS)))
    order = np.random.default_rng([options.seed, key]).permutation(len(EXEMPLARS))[:n]
    shots = "".join(format_exemplar(*EXEMPLARS[i]) for i in order)
    return f"{shots}Problem:\n{problem.strip()}\n\nSolution:"


class MATH(Task):
    name = "math"
    few_shot = True
    default_verifier = "math"
    stop = ("\n\nProblem:", "\nProblem:")

    def load(self, options: TaskOptions) -> list[Problem]:
        rows = load_rows(options.data_dir, "math/test.jsonl", "DigitalLearningGmbH/MATH-lighteval", "test")
        problems = [
            Problem(
                problem_id=str(i),
                prompt=r["problem"],
                reference=(last_boxed(r["solution"]) or "").strip(),
                fields={"subject": r.get("type", ""), "level": r.get("level", ""), "solution": r["solution"]},
            )
            for i, r in enumerate(rows)
        ]
        return [_prompted(p, options, int(p.problem_id)) for p in select(problems, options)]


class MATH500(Task):
    name = "math500"
    few_shot = True
    default_verifier = "math"
    stop = MATH.stop

    def load(self, options: TaskOptions) -> list[Problem]:
        rows = load_rows(options.data_dir, "math500/test.jsonl", "HuggingFaceH4/MATH-500", "test")
        problems = [
            Problem(
                problem_id=r["unique_id"],
                prompt=r["problem"],
                reference=str(r["answer"]),
                fields={
                    "subject": r.get("subject", ""),
                    "level": str(r.get("level", "")),
                    "solution": r["solution"],
                },
            )
            for r in rows
        ]
        return [_prompted(p, options, stable_key(p.problem_id)) for p in select(problems, options)]


def _prompted(p: Problem, options: TaskOptions, key: int) -> Problem:
    return Problem(
        p.problem_id, build_prompt(p.prompt, options, key), p.reference, {"question": p.prompt, **p.fields}
    )


TASKS.add("math", MATH)
TASKS.add("math500", MATH500)
