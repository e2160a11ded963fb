from __future__ import annotations

import json
from pathlib import Path

import pytest

from monkeys.errors import MonkeysError
from monkeys.tasks import TASKS, TaskOptions
from monkeys.tasks.math import last_boxed


def load(task: str, data_dir: str, **kw: object):  # noqa: ANN201
    return TASKS.create(task).load(TaskOptions(data_dir=data_dir, **kw))  # type: ignore[arg-type]


def test_gsm8k_problems_have_ids_references_and_five_shot_prompts(data_dir: str) -> None:
    ps = load("gsm8k", data_dir, limit=3)
    assert [p.problem_id for p in ps] == ["0", "1", "2"]
    assert ps[0].reference == "18"  # Janet's ducks
    prompt = ps[0].prompt
    assert prompt.count("Question:") == 6 and prompt.count("####") == 5
    assert prompt.endswith(f"Question: {ps[0].fields['question']}\nAnswer:")
    assert "<<" not in prompt  # calculator annotations are stripped from the exemplars


def test_gsm8k_exemplars_depend_on_seed_and_problem_not_on_selection(data_dir: str) -> None:
    a = load("gsm8k", data_dir, limit=3)
    b = load("gsm8k", data_dir, offset=1, limit=1)
    c = load("gsm8k", data_dir, limit=3, seed=1)
    assert b[0].prompt == a[1].prompt
    assert a[0].prompt != c[0].prompt
    assert a[0].prompt.split("Question:")[1] != a[1].prompt.split("Question:")[1]


def test_gsm8k_reference_strips_thousands_separators(data_dir: str) -> None:
    refs = [p.reference for p in load("gsm8k", data_dir)]
    assert len(refs) == 1319 and not any("," in r for r in refs)
    assert all(r.lstrip("-").replace(".", "", 1).isdigit() for r in refs)


def test_n_shot_zero_gives_bare_question(data_dir: str) -> None:
    p = load("gsm8k", data_dir, limit=1, n_shot=0)[0]
    assert p.prompt.count("Question:") == 1


def test_math_and_math500_references_and_minerva_prompt(data_dir: str) -> None:
    m = load("math", data_dir, limit=2)
    assert m[0].problem_id == "0" and m[0].reference == "2" and m[0].fields["subject"]
    assert m[0].prompt.count("Final Answer: The final answer is") == 5
    assert m[0].prompt.endswith("\n\nSolution:")
    m5 = load("math500", data_dir, limit=1)
    assert m5[0].problem_id.startswith("test/") and m5[0].reference
    assert len(load("math", data_dir)) == 5000 and len(load("math500", data_dir)) == 500


def test_last_boxed_handles_nesting_and_takes_the_last() -> None:
    assert last_boxed(r"so \boxed{\frac{1}{2}} or \boxed{3}") == "3"
    assert last_boxed(r"\boxed{\frac{a}{\sqrt{b}}}") == r"\frac{a}{\sqrt{b}}"
    assert last_boxed(r"\fbox{7}") == "7"
    assert last_boxed("no box") is None
    assert last_boxed(r"\boxed{unclosed") is None


def test_humaneval_problems(data_dir: str) -> None:
    ps = load("humaneval", data_dir)
    assert len(ps) == 164 and ps[0].problem_id == "HumanEval/0"
    assert ps[0].fields["entry_point"] == "has_close_elements" and "def check" in str(ps[0].fields["test"])
    assert TASKS.create("humaneval").default_verifier == "python-tests"


def test_subset_offset_limit_and_their_errors(data_dir: str) -> None:
    ps = load("gsm8k", data_dir, problem_ids=("5", "2"), n_shot=0)
    assert [p.problem_id for p in ps] == ["5", "2"]
    with pytest.raises(MonkeysError, match="not in this task"):
        load("gsm8k", data_dir, problem_ids=("99999",))
    with pytest.raises(MonkeysError, match="past the last"):
        load("gsm8k", data_dir, offset=5000)
    with pytest.raises(MonkeysError, match="--limit must be >= 1"):
        load("gsm8k", data_dir, limit=0)


def test_missing_data_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(MonkeysError, match="does not exist"):
        load("gsm8k", str(tmp_path / "nope"))
    with pytest.raises(MonkeysError, match="gsm8k/test.jsonl is missing"):
        load("gsm8k", str(tmp_path))


def test_unknown_task_lists_known_ones() -> None:
    with pytest.raises(MonkeysError, match="unknown task 'gsm9k'; choose one of: .*gsm8k"):
        TASKS.create("gsm9k")


def test_jsonl_task_reads_answers_tests_and_infers_verifier(tmp_path: Path) -> None:
    f = tmp_path / "p.jsonl"
    f.write_text(
        json.dumps({"id": "a", "prompt": "1+1?", "answer": "2", "level": 1})
        + "\n"
        + json.dumps({"id": "b", "prompt": "2+2?", "answer": "4"})
        + "\n"
    )
    task = TASKS.create("jsonl")
    ps = task.load(TaskOptions(data_file=str(f)))
    assert [(p.problem_id, p.reference) for p in ps] == [("a", "2"), ("b", "4")]
    assert ps[0].fields == {"level": 1} and task.default_verifier == "math"
    g = tmp_path / "io.jsonl"
    g.write_text(json.dumps({"id": "x", "prompt": "echo", "tests": [{"input": "1", "output": "1"}]}) + "\n")
    task2 = TASKS.create("jsonl")
    p = task2.load(TaskOptions(data_file=str(g)))[0]
    assert task2.default_verifier == "stdio" and json.loads(str(p.fields["tests"]))[0]["output"] == "1"


def test_jsonl_task_bad_rows(tmp_path: Path) -> None:
    f = tmp_path / "bad.jsonl"
    f.write_text('{"id": "a", "prompt": "x"}\n{not json\n')
    with pytest.raises(MonkeysError, match=r"bad.jsonl:2: not valid JSON"):
        TASKS.create("jsonl").load(TaskOptions(data_file=str(f)))
    f.write_text('{"prompt": "x"}\n')
    with pytest.raises(MonkeysError, match="row 1: needs `id`"):
        TASKS.create("jsonl").load(TaskOptions(data_file=str(f)))
    with pytest.raises(MonkeysError, match="pass --data"):
        TASKS.create("jsonl").load(TaskOptions())
