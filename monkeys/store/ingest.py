"""`monkeys import`: samples made elsewhere as a sample source for a run.

Two formats:
- `jsonl`: one object per line, `{"problem_id": ..., "text": ...}`, optional `sample_index` (else the next
  free index of that problem) and optional `is_correct` (a label from elsewhere).
- `monkey-business`: the rows released with "Large Language Monkeys" (`samples`, `is_corrects`,
  `gt_answer`, `question`, `prompt`, `orig_dset_idx`), as a JSON list, JSONL or Parquet. `orig_dset_idx`
  is the index in the task's test split, which is our problem id; sample i of a row gets sample_index i.

Labels (`is_corrects` / `is_correct`) become verdicts of the verifier `imported` (version "1"), so
`monkeys verify` reports how often our verifier agrees with theirs.

The whole file is validated before anything is written: a bad line is reported with its number, and the
rest is imported only with `skip_bad`. A sample already in the run is a bad line too (so re-running an
interrupted import with `--skip-bad` fills in only what is missing).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa

from monkeys.errors import MonkeysError
from monkeys.store import Run
from monkeys.store.ingest_formats import (
    Item,
    detect_format,
    detect_layout,
    read_jsonl,
    read_monkey_business,
)
from monkeys.store.manifest import Manifest, TaskEntry
from monkeys.store.schema import SAMPLES, VERDICTS
from monkeys.store.shards import ShardBuffer, ShardedTable, ensure_writable
from monkeys.store.verdict_sets import NO_OPTIONS
from monkeys.tasks.base import TASKS, Problem, TaskOptions

IMPORTED = "imported"
IMPORTED_VERSION = "1"
FORMATS = ("auto", "jsonl", "monkey-business")
CHUNK = 50_000  # samples per shard
SHOWN = 5


@dataclass
class ImportReport:
    run: str
    format: str
    created: bool
    imported: int = 0
    labels: int = 0
    problems: int = 0
    bad: list[tuple[int, str]] = field(default_factory=list)  # (line or row number, why)
    unit: str = "line"  # what the numbers in `bad` count: "line" (JSONL) or "row" (JSON list, Parquet)


def import_file(
    run_path: str | Path,
    file: str | Path,
    *,
    task: str | None = None,
    fmt: str = "auto",
    data_dir: str | None = None,
    skip_bad: bool = False,
    model: str | None = None,
    all_problems: bool = False,
    data_file: str | Path | None = None,
) -> ImportReport:
    """Import `file` into the run at `run_path`, creating the run if needed with the problems the file
    names (all of `task`'s with `all_problems`), so coverage counts only the problems that were sampled
    (`data_file`: the problems file of the `jsonl` task)."""
    path = Path(file)
    if not path.is_file():
        raise MonkeysError(f"{path} does not exist; check the file name")
    if fmt not in FORMATS:
        raise MonkeysError(f"unknown --format {fmt!r}; choose one of {', '.join(FORMATS)}")
    fmt = detect_format(path) if fmt == "auto" else fmt
    ensure_writable(Path(run_path), "run")
    existing, problems, make_run = _target(Path(run_path), task, data_dir, model, data_file)
    task_name = existing.manifest["task"]["name"] if existing is not None else task
    report = ImportReport(str(run_path), fmt, existing is None)
    stored = existing.stored_indices() if existing is not None else {}
    taken: dict[str, set[int]] = {pid: set(map(int, idx)) for pid, idx in stored.items()}
    next_free: dict[str, int] = {pid: (max(s) + 1 if s else 0) for pid, s in taken.items()}

    def items() -> Iterator[tuple[int, Item | str]]:
        return read_monkey_business(path, problems) if fmt == "monkey-business" else read_jsonl(path)

    # Pass 1: validate everything and fix every sample index; nothing is written yet.
    accepted: dict[tuple[int, int], int] = {}  # (line or row, item within it) -> sample index
    ordinal: dict[int, int] = defaultdict(int)
    named: set[str] = set()
    for where, item in items():
        nth = ordinal[where]
        ordinal[where] += 1
        if isinstance(item, str):
            report.bad.append((where, item))
            continue
        if item.problem_id not in problems:
            report.bad.append((where, f"problem_id {item.problem_id!r} is not in task {task_name}"))
            continue
        used = taken.setdefault(item.problem_id, set())
        idx = item.sample_index
        if idx is None:
            idx = next_free.get(item.problem_id, 0)
            while idx in used:
                idx += 1
        if idx in used:
            report.bad.append(
                (
                    where,
                    f"sample {idx} of problem {item.problem_id} is already in the run or earlier in the file",
                )
            )
            continue
        used.add(idx)
        named.add(item.problem_id)
        next_free[item.problem_id] = max(next_free.get(item.problem_id, 0), idx + 1)
        accepted[(where, nth)] = idx
    report.unit = "line" if fmt == "jsonl" or detect_layout(path) == "lines" else "row"
    if report.bad and not skip_bad:
        raise MonkeysError(_bad_message(path, report.bad, report.unit))
    if not accepted:
        raise MonkeysError(f"{path} holds no samples to import; check that it is the right file")

    # Pass 2: create the run if needed, then write the accepted samples (and labels) in shards.
    run = existing if existing is not None else make_run(None if all_problems else named)
    ordinal.clear()
    with run.writer("samples") as samples, run.writer("verdicts") as verdicts:
        writer = _Writer(samples, verdicts, path.name)
        for where, item in items():
            nth = ordinal[where]
            ordinal[where] += 1
            idx = accepted.get((where, nth))
            if idx is None or isinstance(item, str):
                continue
            writer.add(item, idx)
        writer.flush()
    report.imported, report.labels = writer.samples, writer.labels
    report.problems = len(writer.problems)
    _record(run, path, fmt, report)
    return report


# -- writing -------------------------------------------------------------------------------------------
def samples_table(pids: Sequence[str], idxs: Sequence[int], texts: Sequence[str]) -> pa.Table:
    """Rows for the run's `samples` table from texts alone (token counts and seeds unknown)."""
    n = len(pids)
    return pa.table(
        {
            "problem_id": pa.array(pids, pa.string()),
            "sample_index": pa.array(idxs, pa.int64()),
            "text": pa.array(texts, pa.large_string()),
            "prompt_tokens": pa.nulls(n, pa.int32()),
            "completion_tokens": pa.nulls(n, pa.int32()),
            "finish_reason": pa.nulls(n, pa.string()),
            "cumulative_logprob": pa.nulls(n, pa.float64()),
            "seed": pa.nulls(n, pa.int64()),
            "cached_prompt_tokens": pa.nulls(n, pa.int32()),
        },
        schema=SAMPLES,
    )


class _Writer:
    """Accepted samples (and their labels, as verdicts of verifier `imported`) into the run's tables, through
    the store's `ShardBuffer`: one shard per CHUNK rows."""

    def __init__(self, samples: ShardedTable, verdicts: ShardedTable, source: str) -> None:
        never = float("inf")  # flushed by row count only
        self.sample_rows = ShardBuffer(samples.append, SAMPLES, never, CHUNK)
        label = {"verifier": IMPORTED, "verifier_version": IMPORTED_VERSION, "verifier_options": NO_OPTIONS}
        constants = {**label, "answer": None, "detail": f"label from {source}", "seconds": 0.0}
        self.label_rows = ShardBuffer(verdicts.append, VERDICTS, never, CHUNK, constants=constants)
        self.problems: set[str] = set()

    @property
    def samples(self) -> int:
        return self.sample_rows.written

    @property
    def labels(self) -> int:
        return self.label_rows.written

    def add(self, item: Item, idx: int) -> None:
        self.sample_rows.add({"problem_id": [item.problem_id], "sample_index": [idx], "text": [item.text]}, 1)
        self.problems.add(item.problem_id)
        if item.label is not None:
            verdict = "pass" if item.label else "fail"
            self.label_rows.add(
                {"problem_id": [item.problem_id], "sample_index": [idx], "verdict": [verdict]}, 1
            )

    def flush(self) -> None:
        self.sample_rows.flush()
        self.label_rows.flush()


# -- the run -------------------------------------------------------------------------------------------
def problems_frame(problems: list[Problem]) -> pd.DataFrame:
    """One row per problem: problem_id, prompt, reference and the task's fields as columns."""
    rows = [
        {"problem_id": p.problem_id, "prompt": p.prompt, "reference": p.reference, **dict(p.fields)}
        for p in problems
    ]
    return pd.DataFrame(rows)


def _target(
    path: Path, task: str | None, data_dir: str | None, model: str | None, data_file: str | Path | None = None
) -> tuple[Run | None, dict[str, Problem], Callable[[set[str] | None], Run]]:
    """The run at `path` (None if there is none yet), its problems, and how to create it. A new run is only
    created once the file has passed validation, so a rejected import leaves no half-made run behind."""
    if Run.exists(path):
        run = Run.open(path)
        have = run.manifest.get("task", {}).get("name")
        if task is not None and have != task:
            raise MonkeysError(
                f"run {path} holds task {have!r}, not {task!r}; drop --task or choose another --run"
            )
        df = run.problems()
        questions = df["question"] if "question" in df.columns else [""] * len(df)
        known = {
            str(pid): Problem(str(pid), str(prompt or ""), str(ref or ""), {"question": str(q or "")})
            for pid, prompt, ref, q in zip(
                df["problem_id"], df["prompt"], df["reference"], questions, strict=True
            )
        }
        return run, known, lambda _: run
    if task is None:
        raise MonkeysError(
            f"{path} is not a run yet; pass --task so it can be created with that task's problems"
        )
    import monkeys.tasks  # noqa: F401  (registers the built-in tasks)

    t = TASKS.create(task)
    data = str(Path(data_file).resolve()) if data_file is not None else None
    options = TaskOptions(data_dir=data_dir, data_file=data)
    problems = t.load(options)
    manifest = Manifest(
        TaskEntry(t.name, t.default_verifier, options.manifest()),
        model or "unknown (imported)",
        {"name": "import", "version": None},
        {"temperature": None, "top_p": None, "max_tokens": None, "stop": list(t.stop)},
        k=0,
        seed=None,
        chunk_size=None,
    )
    return (
        None,
        {p.problem_id: p for p in problems},
        lambda keep: Run.create(
            path,
            manifest.to_json(),
            problems_frame([p for p in problems if keep is None or p.problem_id in keep]),
        ),
    )


def _record(run: Run, path: Path, fmt: str, report: ImportReport) -> None:
    engine = run.manifest.get("engine", {})
    sampled = isinstance(engine, dict) and engine.get("name") != "import"
    if sampled:  # a sampled run keeps its k: imported extras (references, say) do not make it less done
        k = int(run.manifest.get("k", 0))
    else:
        k = max((len(v) for v in run.stored_indices().values()), default=0)
    imports = list(run.manifest.get("imports", []))
    imports.append(
        {"file": str(path.resolve()), "format": fmt, "samples": report.imported, "labels": report.labels}
    )
    run.update_manifest(k=k, imports=imports)


def _bad_message(path: Path, bad: list[tuple[int, str]], unit: str) -> str:
    shown = "; ".join(f"{unit} {n}: {why}" for n, why in bad[:SHOWN])
    more = f" (and {len(bad) - SHOWN} more)" if len(bad) > SHOWN else ""
    return (
        f"{path.name}: {len(bad)} bad line(s): {shown}{more}; fix them, or pass --skip-bad to import the rest"
    )
