"""Reading a task's rows: from a local directory laid out like `shared/data`, or from the Hugging Face hub."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from monkeys.errors import MonkeysError
from monkeys.tasks.base import ensure_hub_reachable, resolve_data_dir


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Rows of a JSONL file (optionally gzipped); a bad line is an error naming file and line."""
    if not path.is_file():
        raise MonkeysError(f"data file {path} is missing; check --data-dir / MONKEYS_DATA_DIR")
    opener = gzip.open if path.suffix == ".gz" else open
    rows: list[dict[str, Any]] = []
    with opener(path, "rt", encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise MonkeysError(
                    f"{path}:{lineno}: not valid JSON ({exc.msg}); fix or remove that line"
                ) from None
            if not isinstance(row, dict):
                raise MonkeysError(f"{path}:{lineno}: expected a JSON object per line")
            rows.append(row)
    return rows


def load_rows(
    data_dir: str | None, local: str, hub_id: str, split: str, hub_config: str | None = None
) -> list[dict[str, Any]]:
    """Rows from `<data dir>/<local>` when a data directory is set, else `hub_id` from the hub."""
    root = resolve_data_dir(data_dir)
    if root is not None:
        return read_jsonl(root / local)
    try:
        import datasets
    except ImportError:
        raise MonkeysError(
            "no local data directory and the `datasets` package is missing; pass --data-dir or pip install datasets"
        ) from None
    try:
        ensure_hub_reachable(hub_id)
        ds = datasets.load_dataset(hub_id, hub_config, split=split)
    except Exception as exc:  # the hub raises many types: offline, gated, renamed...
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise MonkeysError(
            f"could not load {hub_id} from the Hugging Face hub ({first}); pass --data-dir with a local copy"
        ) from None
    return [dict(r) for r in ds]
