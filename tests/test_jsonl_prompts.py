"""Custom JSONL tasks: instructions, prompt templates and the model's chat template; honest manifests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monkeys.errors import MonkeysError
from monkeys.sampler.chat import apply_chat_template
from monkeys.sampler.embedded import DEFAULT_MODEL
from monkeys.sampler.loop import SampleConfig, sample
from monkeys.store import Run
from monkeys.tasks import TASKS, TaskOptions
from tests.fakes import FakeEngine


def write(tmp_path: Path, rows: list[dict[str, object]]) -> str:
    f = tmp_path / "p.jsonl"
    f.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(f)


def load(path: str, **kw: object) -> dict[str, str]:
    problems = TASKS.create("jsonl").load(TaskOptions(data_file=path, **kw))  # type: ignore[arg-type]
    return {p.problem_id: p.prompt for p in problems}


def test_row_instruction_and_template_shape_the_prompt(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        [
            {"id": "a", "prompt": "2+2?", "answer": "4", "instruction": "Answer with a number."},
            {"id": "b", "prompt": "3+3? {x}", "answer": "6", "template": "Q: {prompt}\nA:"},
            {"id": "c", "prompt": "1+1?", "answer": "2"},
        ],
    )
    prompts = load(path, instruction="Be brief.", template=None)
    assert prompts == {"a": "Answer with a number.\n\n2+2?", "b": "Q: 3+3? {x}\nA:", "c": "Be brief.\n\n1+1?"}
    filled = load(path, template="[{instruction}] {prompt} =")
    assert filled == {"a": "[Answer with a number.] 2+2? =", "b": "Q: 3+3? {x}\nA:", "c": "[] 1+1? ="}


def test_template_without_prompt_placeholder_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, [{"id": "a", "prompt": "2+2?", "answer": "4"}])
    with pytest.raises(MonkeysError, match=r"needs a \{prompt\} placeholder"):
        load(path, template="Q: A:")


def test_chat_template_of_the_embedded_model_wraps_the_user_message(tmp_path: Path) -> None:
    path = write(tmp_path, [{"id": "a", "prompt": "What is 2+2?", "answer": "4", "template": "chat"}])
    problems = TASKS.create("jsonl").load(TaskOptions(data_file=path))
    [p] = apply_chat_template(DEFAULT_MODEL, problems)
    assert "<|im_start|>user\nWhat is 2+2?<|im_end|>" in p.prompt
    assert p.prompt.rstrip().endswith("<|im_start|>assistant")


def test_manifest_records_n_shot_only_for_few_shot_tasks(tmp_path: Path, data_dir: str) -> None:
    path = write(tmp_path, [{"id": "a", "prompt": "2+2?", "answer": "4"}])
    cfg = SampleConfig(
        "jsonl", TaskOptions(data_file=path, instruction="Be brief."), "fake", 2, engine="fake"
    )
    run = sample(str(tmp_path / "j"), cfg, FakeEngine).run
    options = run.manifest["task"]["options"]
    assert "n_shot" not in options and options["instruction"] == "Be brief."
    g = SampleConfig("gsm8k", TaskOptions(data_dir=data_dir, limit=1), "fake", 2, engine="fake")
    assert sample(str(tmp_path / "g"), g, FakeEngine).run.manifest["task"]["options"]["n_shot"] == 5


def test_runs_that_recorded_n_shot_for_jsonl_still_resume(tmp_path: Path) -> None:
    path = write(tmp_path, [{"id": "a", "prompt": "2+2?", "answer": "4"}])
    cfg = SampleConfig("jsonl", TaskOptions(data_file=path), "fake", 2, engine="fake")
    run = sample(str(tmp_path / "j"), cfg, FakeEngine).run
    manifest = json.loads((run.path / "manifest.json").read_text())
    manifest["task"]["options"]["n_shot"] = 5  # what older monkeys wrote
    (run.path / "manifest.json").write_text(json.dumps(manifest))
    again = sample(
        str(tmp_path / "j"),
        SampleConfig("jsonl", TaskOptions(data_file=path), "fake", 4, engine="fake"),
        FakeEngine,
    )
    assert again.stored == 2 and len(Run.open(tmp_path / "j").samples()) == 4
