"""A score cache shared by every run on the machine: SQLite under `$MONKEYS_CACHE_DIR/scores` (default
`~/.cache/monkeys/scores`).

Keyed by (scorer identity hash, problem key, text hash): the identity covers name, version, model and
options, the problem key the problem id plus a hash of its prompt, reference and fields (as for verdicts).
Another run holding the same texts of the same problems reuses the scores without loading a model. Each
commit is atomic, so a killed `score` leaves the cache whole.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path

from monkeys.errors import MonkeysError

SCHEMA = """
CREATE TABLE IF NOT EXISTS scores (
    scorer TEXT NOT NULL, problem_key TEXT NOT NULL, text_key TEXT NOT NULL, score REAL,
    PRIMARY KEY (scorer, problem_key, text_key)
) WITHOUT ROWID
"""


def default_cache_dir() -> Path:
    base = os.environ.get("MONKEYS_CACHE_DIR")
    return Path(base) / "scores" if base else Path.home() / ".cache" / "monkeys" / "scores"


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


class ScoreCache:
    """get_many / put_many over one SQLite file; safe for several processes at once."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = Path(directory) if directory is not None else default_cache_dir()
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            self.path = self.directory / "scores.sqlite"
            self._db = sqlite3.connect(self.path, timeout=60.0, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise MonkeysError(
                f"cannot use the score cache in {self.directory} ({exc}); set MONKEYS_CACHE_DIR or pass --no-cache"
            ) from None

    def get_many(self, scorer: str, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], float]:
        """Cached scores for the (problem key, text key) pairs that have one."""
        found: dict[tuple[str, str], float] = {}
        step = 400
        for i in range(0, len(keys), step):
            chunk = keys[i : i + step]
            marks = ",".join(["(?,?)"] * len(chunk))
            rows = self._db.execute(
                "SELECT problem_key, text_key, score FROM scores "
                f"WHERE scorer=? AND (problem_key, text_key) IN (VALUES {marks})",
                [scorer, *(x for pair in chunk for x in pair)],
            ).fetchall()
            found.update({(pk, tk): float("nan") if s is None else s for pk, tk, s in rows})
        return found

    def put_many(self, scorer: str, items: Iterable[tuple[str, str, float]]) -> int:
        rows = [(scorer, pk, tk, s) for pk, tk, s in items]
        if rows:
            with self._db:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.executemany("INSERT OR REPLACE INTO scores VALUES (?,?,?,?)", rows)
        return len(rows)

    def close(self) -> None:
        self._db.close()
