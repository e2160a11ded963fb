"""`monkeys import`: plain JSONL and the paper's monkey_business rows, bad lines, unknown problems, labels."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from monkeys.analysis.verify_summary import summarize
from monkeys.errors import MonkeysError
from monkeys.store import Run
from monkeys.store.ingest import IMPORTED, import_file
from monkeys.verifiers.stage.runner import verify_run


@pytest.fixture(scope="module")
def data_dir() -> str:
    return os.environ.get("MONKEYS_DATA_DIR", "/work/shared/data")


@pytest.fixture(scope="module")
def gsm8k_rows(data_dir: str) -> list[dict[str, str]]:
    return [json.loads(x) for x in (Path(data_dir) / "gsm8k" / "test.jsonl").read_text().splitlines()]


def write_lines(path: Path, lines: list[str | bytes]) -> Path:
    with open(path, "wb") as fh:
        for line in lines:
            fh.write((line.encode() if isinstance(line, str) else line) + b"\n")
    return path


def test_jsonl_import_creates_the_run_with_the_problems_it_names(tmp_path: Path, data_dir: str) -> None:
    f = write_lines(
        tmp_path / "s.jsonl",
        [
            json.dumps({"problem_id": "0", "text": "#### 18", "sample_index": 5}),
            json.dumps({"problem_id": "0", "text": "#### 17"}),
            json.dumps({"problem_id": 1, "text": "#### 3"}),
            "",
        ],
    )
    rep = import_file(tmp_path / "run", f, task="gsm8k", data_dir=data_dir)
    assert (rep.created, rep.imported, rep.problems, rep.bad) == (True, 3, 2, [])
    run = Run.open(tmp_path / "run")
    assert sorted(run.problem_ids()) == ["0", "1"]  # a run of 2 sampled problems is complete, not 0.15 % done
    assert run.manifest["task"]["name"] == "gsm8k" and run.manifest["engine"]["name"] == "import"
    s = run.samples().sort_values(["problem_id", "sample_index"])
    assert list(zip(s["problem_id"], s["sample_index"], s["text"], strict=True)) == [
        ("0", 5, "#### 18"),
        ("0", 6, "#### 17"),
        ("1", 0, "#### 3"),
    ]
    assert run.manifest["k"] == 2


def test_bad_lines_are_reported_by_number_and_nothing_is_written(tmp_path: Path, data_dir: str) -> None:
    f = write_lines(
        tmp_path / "s.jsonl",
        [
            json.dumps({"problem_id": "0", "text": "fine"}),
            '{"problem_id": "0", "text": ',  # 2: truncated JSON
            json.dumps({"problem_id": "0"}),  # 3: no text
            b'{"problem_id": "0", "text": "caf\xe9"}',  # 4: Latin-1 byte, not UTF-8
            json.dumps({"problem_id": "99999", "text": "x"}),  # 5: unknown problem
            '{"problem_id": "0", "text": "\\ud800"}',  # 6: lone surrogate escape
            json.dumps({"problem_id": "0", "text": "x", "sample_index": -1}),  # 7
            json.dumps(["not", "an", "object"]),  # 8
        ],
    )
    with pytest.raises(MonkeysError) as err:
        import_file(tmp_path / "run", f, task="gsm8k", data_dir=data_dir)
    msg = str(err.value)
    assert "7 bad line(s)" in msg and "--skip-bad" in msg
    for n in (2, 3, 4, 5, 6):
        assert f"line {n}:" in msg
    assert "byte 0xe9" in msg and "'99999' is not in task gsm8k" in msg
    assert not Run.exists(tmp_path / "run")  # a rejected import leaves no run behind


def test_skip_bad_imports_the_good_lines(tmp_path: Path, data_dir: str) -> None:
    f = write_lines(
        tmp_path / "s.jsonl",
        [
            json.dumps({"problem_id": "0", "text": "a"}),
            "garbage",
            json.dumps({"problem_id": "2", "text": "b"}),
        ],
    )
    rep = import_file(tmp_path / "run", f, task="gsm8k", data_dir=data_dir, skip_bad=True)
    assert rep.imported == 2 and [n for n, _ in rep.bad] == [2]
    assert sorted(Run.open(tmp_path / "run").samples()["text"]) == ["a", "b"]


def test_reimporting_with_skip_bad_fills_only_missing_samples(tmp_path: Path, data_dir: str) -> None:
    lines = [json.dumps({"problem_id": "0", "text": f"t{i}", "sample_index": i}) for i in range(4)]
    import_file(
        tmp_path / "run", write_lines(tmp_path / "a.jsonl", lines[:2]), task="gsm8k", data_dir=data_dir
    )
    with pytest.raises(MonkeysError, match="already in the run"):
        import_file(tmp_path / "run", write_lines(tmp_path / "b.jsonl", lines), data_dir=data_dir)
    rep = import_file(tmp_path / "run", tmp_path / "b.jsonl", skip_bad=True)
    assert rep.imported == 2
    s = Run.open(tmp_path / "run").samples()
    assert (
        sorted(s["sample_index"]) == [0, 1, 2, 3] and not s.duplicated(["problem_id", "sample_index"]).any()
    )


def test_existing_run_of_another_task_is_refused(tmp_path: Path, data_dir: str) -> None:
    f = write_lines(tmp_path / "s.jsonl", [json.dumps({"problem_id": "0", "text": "a"})])
    import_file(tmp_path / "run", f, task="gsm8k", data_dir=data_dir)
    with pytest.raises(MonkeysError, match="holds task 'gsm8k', not 'math'"):
        import_file(tmp_path / "run", f, task="math", data_dir=data_dir)
    with pytest.raises(MonkeysError, match="pass --task"):
        import_file(tmp_path / "new", f)


def mb_rows(gsm8k_rows: list[dict[str, str]]) -> list[dict[str, object]]:
    rows = []
    for idx in (3, 7):
        r = gsm8k_rows[idx]
        gt = r["answer"].rsplit("####", 1)[-1].strip()
        samples = [
            r["answer"],
            "I think the answer is 1.\n#### 1",
            r["answer"].replace(f"#### {gt}", f"#### {gt}.00"),
        ]
        # the third label is deliberately wrong, so agreement is below 100 %
        rows.append(
            {
                "orig_dset_idx": idx,
                "question": r["question"],
                "prompt": "Question: " + r["question"],
                "gt_answer": gt,
                "samples": samples,
                "is_corrects": [True, False, False],
            }
        )
    return rows


@pytest.mark.parametrize("layout", ["json-list", "jsonl", "parquet"])
def test_monkey_business_rows_become_samples_and_imported_labels(
    tmp_path: Path, data_dir: str, gsm8k_rows: list[dict[str, str]], layout: str
) -> None:
    rows = mb_rows(gsm8k_rows)
    f = tmp_path / ("mb.parquet" if layout == "parquet" else "mb.json")
    if layout == "json-list":
        f.write_text(json.dumps(rows))
    elif layout == "jsonl":
        f.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    else:
        pq.write_table(pa.Table.from_pylist(rows), f)  # the Hugging Face dataset's own file format
    rep = import_file(tmp_path / "run", f, task="gsm8k", data_dir=data_dir)
    assert (rep.format, rep.imported, rep.labels, rep.problems) == ("monkey-business", 6, 6, 2)
    run = Run.open(tmp_path / "run")
    labels = run.verdicts(IMPORTED).set_index(["problem_id", "sample_index"])["verdict"]
    assert labels[("3", 0)] == "pass" and labels[("3", 1)] == "fail" and labels[("7", 2)] == "fail"
    assert set(run.verdicts(IMPORTED)["verifier_version"]) == {"1"}

    verify_run(run, cache=None)
    s = summarize(run, "gsm8k")
    a = s["agreement"][IMPORTED]
    assert (
        a["samples"] == 6
        and a["agree"] == 4
        and a["ours_pass_theirs_fail"] == 2
        and a["ours_fail_theirs_pass"] == 0
    )
    assert s["verdicts"]["pass"] == 4 and s["coverage"]["1"] == pytest.approx(2 / 3)


def test_monkey_business_question_mismatch_means_wrong_task_or_index(
    tmp_path: Path, data_dir: str, gsm8k_rows: list[dict[str, str]]
) -> None:
    rows = mb_rows(gsm8k_rows)
    rows[1]["orig_dset_idx"] = 8  # its question is item 7's
    f = tmp_path / "mb.json"
    f.write_text(json.dumps(rows))
    with pytest.raises(MonkeysError, match=r"row 2: question does not match problem 8"):
        import_file(tmp_path / "run", f, task="gsm8k", data_dir=data_dir)


def test_monkey_business_label_list_must_match_samples(
    tmp_path: Path, data_dir: str, gsm8k_rows: list[dict[str, str]]
) -> None:
    rows = mb_rows(gsm8k_rows)
    rows[0]["is_corrects"] = [True]
    f = tmp_path / "mb.jsonl"
    f.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    rep = import_file(
        tmp_path / "run", f, task="gsm8k", data_dir=data_dir, fmt="monkey-business", skip_bad=True
    )
    assert rep.imported == 3 and rep.bad[0][0] == 1 and "as long as samples (3)" in rep.bad[0][1]


def test_unknown_format_and_missing_file_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(MonkeysError, match="does not exist"):
        import_file(tmp_path / "run", tmp_path / "nope.jsonl", task="gsm8k")
    f = write_lines(tmp_path / "s.jsonl", ["{}"])
    with pytest.raises(MonkeysError, match="unknown --format 'csv'"):
        import_file(tmp_path / "run", f, task="gsm8k", fmt="csv")


def test_all_problems_keeps_every_task_problem(tmp_path: Path, data_dir: str) -> None:
    f = write_lines(tmp_path / "s.jsonl", [json.dumps({"problem_id": "0", "text": "#### 18"})])
    import_file(tmp_path / "run", f, task="gsm8k", data_dir=data_dir, all_problems=True)
    assert len(Run.open(tmp_path / "run").problem_ids()) == 1319


def test_an_empty_file_is_refused_in_one_line_and_makes_no_run(tmp_path: Path, data_dir: str) -> None:
    import subprocess
    import sys

    f = tmp_path / "empty.jsonl"
    f.write_text("")
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "monkeys.cli",
            "import",
            "--run",
            str(tmp_path / "run"),
            "--task",
            "gsm8k",
            str(f),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "MONKEYS_DATA_DIR": data_dir},
    )
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        f"error: {f} holds no samples to import; check that it is the right file"
    ]
    assert not (tmp_path / "run").exists()
