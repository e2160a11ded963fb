"""GSM8K test split, prompted 5-shot with exemplars drawn from the train split per problem by seed."""

from __future__ import annotations

import re

import numpy as np

from monkeys.tasks.base import TASKS, Problem, Task, TaskOptions, select
from monkeys.tasks.data import load_rows

CALCULATOR = re.compile(r"<<[^>]*>>")


def final_number(answer: str) -> str:
    """The reference number after GSM8K's `####` marker, without thousands separators."""
    return answer.rsplit("####", 1)[-1].strip().replace(",", "")


def format_exemplar(question: str, answer: str) -> str:
    reasoning, _, final = CALCULATOR.sub("", answer).rpartition("####")
    return f"Question: {question.strip()}\nAnswer: {reasoning.strip()}\n#### {final.strip()}\n\n"


class GSM8K(Task):
    name = "gsm8k"
    few_shot = True
    default_verifier = "gsm8k"
    # Answers are single-spaced and exemplars end with a blank line, so a blank line ends the answer; it also
    # cuts off small models that ramble on with a made-up next problem.
    stop = ("\n\n", "\nQuestion:")

    def load(self, options: TaskOptions) -> list[Problem]:
        test = load_rows(options.data_dir, "gsm8k/test.jsonl", "openai/gsm8k", "test", "main")
        problems = [
            Problem(problem_id=str(i), prompt=r["question"], reference=final_number(r["answer"]))
            for i, r in enumerate(test)
        ]
        chosen = select(problems, options)
        if options.n_shot <= 0:
            return [self._with_prompt(p, "") for p in chosen]
        train = load_rows(options.data_dir, "gsm8k/train.jsonl", "openai/gsm8k", "train", "main")
        out = []
        for p in chosen:
            # Exemplars depend only on (seed, problem), so subsets and offsets never change a prompt.
            rng = np.random.default_rng([options.seed, int(p.problem_id)])
            picks = rng.choice(len(train), size=min(options.n_shot, len(train)), replace=False)
            shots = "".join(format_exemplar(train[j]["question"], train[j]["answer"]) for j in picks)
            out.append(self._with_prompt(p, shots))
        return out

    @staticmethod
    def _with_prompt(p: Problem, shots: str) -> Problem:
        return Problem(
            p.problem_id, f"{shots}Question: {p.prompt.strip()}\nAnswer:", p.reference, {"question": p.prompt}
        )


TASKS.add("gsm8k", GSM8K)
