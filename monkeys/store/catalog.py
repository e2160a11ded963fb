"""Finding runs under a folder, with counts read from Parquet footers (no sample data is loaded)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq

from monkeys.store.run import MANIFEST, PROBLEMS, Run


@dataclass(frozen=True)
class RunSummary:
    path: str
    task: str
    model: str
    problems: int
    samples: int  # every stored sample, imported extras too
    done: int  # samples towards the target: index below k
    target: int
    updated: str


def find_runs(root: str | Path) -> list[RunSummary]:
    root = Path(root)
    if not root.is_dir():
        return []
    found = [root] if (root / MANIFEST).is_file() else sorted(p.parent for p in root.glob(f"*/{MANIFEST}"))
    out = []
    for path in found:
        run = Run.open(path)
        try:
            m = run.manifest
        except Exception:
            continue
        problems = pq.ParquetFile(path / PROBLEMS).metadata.num_rows if (path / PROBLEMS).is_file() else 0
        task = m.get("task", {})
        k = int(m.get("k", 0))
        out.append(
            RunSummary(
                path=str(path),
                task=task.get("name", "?") if isinstance(task, dict) else str(task),
                model=str(m.get("model", "?")),
                problems=problems,
                samples=run.num_samples(),
                done=_done(run, k),
                target=k * problems,
                updated=str(m.get("updated", "")),
            )
        )
    return out


def _done(run: Run, k: int) -> int:
    """Samples with an index below k: those count towards k per problem (reads one integer column)."""
    if run.num_samples() == 0:
        return 0
    indices = run.samples_table(["sample_index"]).column("sample_index")
    return int(pc.sum(pc.less(indices, k)).as_py() or 0)
