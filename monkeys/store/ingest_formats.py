"""The file formats `monkeys import` reads. Each reader yields (line or row number, Item) for a good
sample and (number, why) for a bad one, so the caller can report every bad line before writing anything.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monkeys.errors import MonkeysError
from monkeys.jsonl import iter_jsonl
from monkeys.records import Problem


@dataclass(frozen=True)
class Item:
    """One sample read from a file; sample_index None = the next free index of its problem."""

    problem_id: str
    sample_index: int | None
    text: str
    label: bool | None


def detect_format(path: Path) -> str:
    """`monkey-business` when the first record has `samples`, else `jsonl`."""
    if path.suffix == ".parquet":
        return "monkey-business"
    with open(path, "rb") as fh:
        head = fh.read(65536).lstrip()
    if head.startswith(b"["):
        return "monkey-business"
    return "monkey-business" if re.search(rb'^\{[^\n]*"samples"\s*:', head) else "jsonl"


def detect_layout(path: Path) -> str:
    """`lines` for JSONL, `rows` for a JSON list or Parquet file."""
    if path.suffix == ".parquet":
        return "rows"
    with open(path, "rb") as fh:
        return "rows" if fh.read(4096).lstrip().startswith(b"[") else "lines"


def _text_ok(text: Any) -> str | None:
    """Why `text` cannot be stored as a sample, or None when it can."""
    if not isinstance(text, str):
        return f"text must be a string, not {type(text).__name__}"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "text holds a lone surrogate escape (\\ud800-\\udfff); it is not valid Unicode"
    return None


def read_jsonl(path: Path) -> Iterator[tuple[int, Item | str]]:
    for lineno, row in iter_jsonl(path):
        if isinstance(row, str):
            yield lineno, row
            continue
        missing = [k for k in ("problem_id", "text") if k not in row]
        if missing:
            yield lineno, f"missing field(s) {missing}; each line needs problem_id and text"
            continue
        why = _text_ok(row["text"])
        if why:
            yield lineno, why
            continue
        idx = row.get("sample_index")
        if idx is not None and (not isinstance(idx, int) or isinstance(idx, bool) or idx < 0):
            yield lineno, f"sample_index must be a whole number >= 0, got {idx!r}"
            continue
        label = row.get("is_correct")
        if label is not None and not isinstance(label, bool):
            yield lineno, f"is_correct must be true or false, got {label!r}"
            continue
        yield lineno, Item(str(row["problem_id"]), idx, row["text"], label)


def _mb_rows(path: Path) -> Iterator[tuple[int, dict[str, Any] | str]]:
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        n = 0
        for batch in pq.ParquetFile(path).iter_batches(batch_size=16):
            for row in batch.to_pylist():
                n += 1
                yield n, row
        return
    if detect_layout(path) == "rows":
        try:
            rows = json.loads(path.read_bytes().decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise MonkeysError(
                f"{path} is not a valid JSON list ({exc}); fix the file or convert it to JSONL"
            ) from None
        for i, row in enumerate(rows, 1):
            yield i, row if isinstance(row, dict) else "expected a JSON object"
        return
    yield from iter_jsonl(path)


def read_monkey_business(path: Path, problems: dict[str, Problem]) -> Iterator[tuple[int, Item | str]]:
    for where, row in _mb_rows(path):
        if isinstance(row, str):
            yield where, row
            continue
        missing = [k for k in ("samples", "orig_dset_idx") if k not in row]
        if missing:
            yield where, f"missing field(s) {missing} of the monkey_business format"
            continue
        samples, labels = row["samples"], row.get("is_corrects")
        if not isinstance(samples, list):
            yield where, "samples must be a list of strings"
            continue
        if labels is not None and (not isinstance(labels, list) or len(labels) != len(samples)):
            yield where, f"is_corrects must be a list as long as samples ({len(samples)})"
            continue
        pid = str(row["orig_dset_idx"])
        question = row.get("question")
        if isinstance(question, str) and pid in problems and not _same_question(question, problems[pid]):
            yield (
                where,
                f"question does not match problem {pid} of the task (orig_dset_idx → problem id); is --task right?",
            )
            continue
        for i, text in enumerate(samples):
            why = _text_ok(text)
            label = labels[i] if labels is not None else None
            if why:
                yield where, f"sample {i}: {why}"
            elif label is not None and not isinstance(label, bool):
                yield where, f"sample {i}: is_corrects entries must be true or false, got {label!r}"
            else:
                yield where, Item(pid, i, text, label)


def _squash(s: str) -> str:
    return " ".join(s.split())


def _same_question(question: str, problem: Problem) -> bool:
    q = _squash(question)
    return q in _squash(problem.prompt) or q == _squash(str(problem.fields.get("question", "")))
