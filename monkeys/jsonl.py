"""The one JSONL reader: task data, user problem files and imported samples all come through here."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from monkeys.errors import UsageError


def _open(path: Path) -> IO[bytes]:
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")  # noqa: SIM115


def iter_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """(line number, object) for every non-blank line of a JSONL file (gzipped when it ends in .gz), or
    (line number, why it is not an object) for a bad line, so callers choose to stop or skip."""
    with _open(Path(path)) as fh:
        for lineno, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            try:
                line = raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError as exc:
                yield lineno, f"not valid UTF-8 (byte {raw[exc.start]:#04x} at column {exc.start + 1})"
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                yield lineno, f"not valid JSON ({exc.msg} at column {exc.pos + 1})"
                continue
            yield lineno, row if isinstance(row, dict) else "expected a JSON object per line"


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Every row of a JSONL file; a missing file or a bad line is a one-line error naming file and line."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"data file {path} is missing; check --data-dir / MONKEYS_DATA_DIR")
    rows: list[dict[str, Any]] = []
    for lineno, row in iter_jsonl(path):
        if isinstance(row, str):
            raise UsageError(f"{path}:{lineno}: {row}; fix or remove that line")
        rows.append(row)
    return rows


__all__ = ["iter_jsonl", "read_jsonl"]
