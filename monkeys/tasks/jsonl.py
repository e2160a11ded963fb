"""A user's own problems: one JSON object per line with an id, a prompt, and an answer or tests.

Row keys: `id` (or `problem_id`), `prompt`, and one of `answer` (graded by the `math` verifier, which also
handles plain numbers), `tests` (a list of {"input", "output"} stdin/stdout cases, graded by `stdio`), or
`test` / `test_list` (Python asserts, graded by `python-tests`). A row may name its `verifier`; other keys
are kept as task fields.

Instruct models ramble on a raw prompt: an `instruction` (put before the prompt, with a blank line) and a
`template` (text with `{prompt}` and optionally `{instruction}` where they go) can be given per row or for
the whole file (`--instruction`, `--template`; a row's own win). The template `chat` means the model's own
chat template, applied by the sampler with the model's tokenizer (the prompt is the user's message).
"""

from __future__ import annotations

import json
from pathlib import Path

from monkeys.errors import MonkeysError
from monkeys.tasks.base import TASKS, Problem, Task, TaskOptions, select
from monkeys.tasks.data import read_jsonl

CHAT = "chat"  # the template that means: the model's own chat template, applied when sampling


def _text(row: dict[str, object], key: str, default: str | None, path: Path, lineno: int) -> str | None:
    value = row.get(key, default)
    if value is not None and not isinstance(value, str):
        raise MonkeysError(f"{path} row {lineno}: `{key}` must be a string")
    return value


def build_prompt(prompt: str, instruction: str | None, template: str | None, where: str) -> str:
    """The prompt sent to the model: the template filled in, else the instruction, a blank line, the prompt."""
    if template is None or template == CHAT:
        return prompt if not instruction else f"{instruction}\n\n{prompt}"
    if "{prompt}" not in template:
        raise MonkeysError(f"{where}: the template needs a {{prompt}} placeholder, e.g. 'Q: {{prompt}}\\nA:'")
    return template.replace("{instruction}", instruction or "").replace("{prompt}", prompt)


def infer_verifier(row: dict[str, object]) -> str:
    if isinstance(row.get("verifier"), str):
        return str(row["verifier"])
    if "tests" in row:
        return "stdio"
    if "test" in row or "test_list" in row:
        return "python-tests"
    return "math"


class JSONL(Task):
    name = "jsonl"
    few_shot = False
    stop: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.default_verifier = "math"

    def load(self, options: TaskOptions) -> list[Problem]:
        if not options.data_file:
            raise MonkeysError("the jsonl task needs its file: pass --data problems.jsonl")
        path = Path(options.data_file)
        rows = read_jsonl(path)
        if not rows:
            raise MonkeysError(f"{path} holds no problems")
        problems = []
        verifiers = set()
        for lineno, row in enumerate(rows, 1):
            pid = row.get("problem_id", row.get("id"))
            if pid is None or "prompt" not in row:
                raise MonkeysError(f"{path} row {lineno}: needs `id` (or `problem_id`) and `prompt`")
            verifiers.add(infer_verifier(row))
            reference = row.get("answer", row.get("reference", ""))
            fields = {}
            for key, value in row.items():
                if key in ("id", "problem_id", "prompt", "answer", "reference", "instruction", "template"):
                    continue
                fields[key] = (
                    value
                    if isinstance(value, (str, int, float, bool)) or value is None
                    else json.dumps(value)
                )
            prompt = build_prompt(
                str(row["prompt"]),
                _text(row, "instruction", options.instruction, path, lineno),
                _text(row, "template", options.template, path, lineno),
                f"{path} row {lineno}",
            )
            if _text(row, "template", options.template, path, lineno) == CHAT:
                fields["chat"] = True
            problems.append(Problem(str(pid), prompt, str(reference), fields))
        if len(verifiers) > 1:
            raise MonkeysError(
                f"{path} mixes problems for verifiers {sorted(verifiers)}; split it into one file per kind"
            )
        self.default_verifier = verifiers.pop()
        return select(problems, options)


TASKS.add("jsonl", JSONL)
