"""A verdict cache shared by every run on the machine: SQLite under `$MONKEYS_CACHE_DIR` (default
`~/.cache/monkeys/verdicts`).

Keyed by (verifier, version, problem key, item key): the problem key is the problem id plus a hash of
everything a verdict may depend on (prompt, reference, task fields), the item key a hash of the extracted
answer (or, when nothing was extracted, of the whole completion). A new verifier version never matches old
entries, so bumping a version invalidates exactly the old version's verdicts. Only `pass` and `fail` are
cached: a timeout or a crashed worker may go differently next time. Verifiers that check inline in
microseconds (gsm8k) do not use the cache at all. SQLite's journal makes every commit
atomic, so a killed `verify` leaves the cache whole.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path

from monkeys.errors import MonkeysError
from monkeys.records import Problem
from monkeys.verifiers.base import Verdict

CACHED = ("pass", "fail")
SCHEMA = """
CREATE TABLE IF NOT EXISTS verdicts (
    verifier TEXT NOT NULL, version TEXT NOT NULL, problem_key TEXT NOT NULL, item_key TEXT NOT NULL,
    verdict TEXT NOT NULL, answer TEXT, detail TEXT, seconds REAL,
    PRIMARY KEY (verifier, version, problem_key, item_key)
) WITHOUT ROWID
"""


def default_cache_dir() -> Path:
    return Path(os.environ.get("MONKEYS_CACHE_DIR") or Path.home() / ".cache" / "monkeys" / "verdicts")


def problem_key(problem: Problem) -> str:
    """The problem id plus a hash of what its verdicts depend on."""
    payload = json.dumps([problem.prompt, problem.reference, sorted(problem.fields.items())], default=str)
    return f"{problem.problem_id}:{hashlib.sha256(payload.encode('utf-8', 'surrogatepass')).hexdigest()[:20]}"


def item_key(extract: str | None, text: str) -> str:
    """A hash of the extract, or of the whole completion when nothing was extracted."""
    payload = ("x\0" + extract) if extract is not None else ("t\0" + text)
    return hashlib.sha256(payload.encode("utf-8", "surrogatepass")).hexdigest()[:32]


class VerdictCache:
    """get_many / put_many over one SQLite file; safe for several processes at once."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = Path(directory) if directory is not None else default_cache_dir()
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            self.path = self.directory / "verdicts.sqlite"
            self._db = sqlite3.connect(self.path, timeout=60.0, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise MonkeysError(
                f"cannot use the verdict cache in {self.directory} ({exc}); set MONKEYS_CACHE_DIR or pass --no-cache"
            ) from None

    def get_many(
        self, verifier: str, version: str, keys: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], Verdict]:
        """Cached verdicts for (problem key, item key) pairs that have one."""
        found: dict[tuple[str, str], Verdict] = {}
        step = 400
        for i in range(0, len(keys), step):
            chunk = keys[i : i + step]
            marks = ",".join(["(?,?)"] * len(chunk))
            flat = [x for pair in chunk for x in pair]
            rows = self._db.execute(
                "SELECT problem_key, item_key, verdict, answer, detail, seconds FROM verdicts "
                f"WHERE verifier=? AND version=? AND (problem_key, item_key) IN (VALUES {marks})",
                [verifier, version, *flat],
            ).fetchall()
            for pk, ik, verdict, answer, detail, seconds in rows:
                found[(pk, ik)] = Verdict(verdict, answer, detail or "", seconds or 0.0)
        return found

    def put_many(self, verifier: str, version: str, items: Iterable[tuple[str, str, Verdict]]) -> int:
        """Store the `pass`/`fail` verdicts among `items` in one transaction; returns how many."""
        rows = [
            (verifier, version, pk, ik, v.verdict, v.answer, v.detail, v.seconds)
            for pk, ik, v in items
            if v.verdict in CACHED
        ]
        if rows:
            with self._db:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.executemany("INSERT OR REPLACE INTO verdicts VALUES (?,?,?,?,?,?,?,?)", rows)
        return len(rows)

    def close(self) -> None:
        self._db.close()
