"""The run directory: a manifest, the problems, and append-only tables of samples, verdicts and scores.

Layout::

    RUN/manifest.json        what was asked for (task, model, engine, sampling, seeds, versions, times)
    RUN/problems.parquet     one row per problem: problem_id, prompt, reference, task fields
    RUN/samples/*.parquet    append-only shards (see shards.py)
    RUN/verdicts/*.parquet
    RUN/scores/*.parquet
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from monkeys import __version__
from monkeys.errors import CorruptStoreError, MonkeysError, RunMismatchError, UsageError
from monkeys.store.schema import TABLES
from monkeys.store.shards import ShardedTable, atomic_write_bytes, write_parquet_atomic
from monkeys.store.verdict_sets import current_rows

MANIFEST = "manifest.json"
PROBLEMS = "problems.parquet"
FORMAT = 1


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


class Run:
    """A run directory. Open an existing one with `Run.open(path)`, make one with `Run.create(...)`."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    # -- life cycle ----------------------------------------------------------------------------------
    @staticmethod
    def exists(path: str | os.PathLike[str]) -> bool:
        return (Path(path) / MANIFEST).is_file()

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> Run:
        p = Path(path)
        if not (p / MANIFEST).is_file():
            raise UsageError(
                f"{p} is not a run directory (no {MANIFEST}); check --run or create it with `monkeys sample`"
            )
        return cls(p)

    @classmethod
    def create(cls, path: str | os.PathLike[str], manifest: dict[str, Any], problems: pd.DataFrame) -> Run:
        """Make a new run directory; refuses to touch one that already holds a run."""
        p = Path(path)
        if (p / MANIFEST).exists():
            raise RunMismatchError(f"{p} already holds a run; open it instead or choose a new --run")
        try:
            p.mkdir(parents=True, exist_ok=True)
            probe = p / ".write-probe"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise MonkeysError(
                f"cannot write run directory {p}: {exc.strerror}; choose a writable --run"
            ) from None
        if "problem_id" not in problems.columns:
            raise MonkeysError("problems table needs a problem_id column")
        ids = problems["problem_id"].astype(str)
        if ids.duplicated().any():
            dup = ids[ids.duplicated()].iloc[0]
            raise MonkeysError(f"problem id {dup!r} appears twice; problem ids must be unique")
        table = pa.Table.from_pandas(problems.assign(problem_id=ids), preserve_index=False)
        write_parquet_atomic(table, p / PROBLEMS)
        stamp = now_iso()
        full = {
            "format": FORMAT,
            "monkeys_version": __version__,
            "created": stamp,
            "updated": stamp,
            **manifest,
        }
        atomic_write_bytes(p / MANIFEST, json.dumps(full, indent=2, sort_keys=True).encode())
        return cls(p)

    # -- manifest and problems -----------------------------------------------------------------------
    @property
    def manifest(self) -> dict[str, Any]:
        try:
            return json.loads((self.path / MANIFEST).read_text())
        except json.JSONDecodeError as exc:
            raise CorruptStoreError(
                f"{self.path / MANIFEST} is not valid JSON ({exc.msg}); restore it from a backup"
            ) from None

    def update_manifest(self, **fields: Any) -> dict[str, Any]:
        """Merge `fields` into the manifest atomically and stamp `updated`."""
        m = self.manifest
        m.update(fields)
        m["updated"] = now_iso()
        atomic_write_bytes(self.path / MANIFEST, json.dumps(m, indent=2, sort_keys=True).encode())
        return m

    def problems(self) -> pd.DataFrame:
        return pq.read_table(self.path / PROBLEMS).to_pandas()

    def problem_ids(self) -> list[str]:
        return pq.read_table(self.path / PROBLEMS, columns=["problem_id"]).column(0).to_pylist()

    # -- tables --------------------------------------------------------------------------------------
    def table(self, name: str) -> ShardedTable:
        try:
            schema = TABLES[name]
        except KeyError:
            raise UsageError(f"unknown table {name!r}; known: {sorted(TABLES)}") from None
        return ShardedTable(self.path / name, schema)

    @contextlib.contextmanager
    def writer(self, name: str) -> Iterator[ShardedTable]:
        """Exclusive right to append to table `name` (one writer per table; readers never block)."""
        self.path.mkdir(parents=True, exist_ok=True)
        lock_path = self.path / f".lock-{name}"
        fh = open(lock_path, "a+")  # noqa: SIM115  (held open for the lock's lifetime)
        try:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                fh.seek(0)
                holder = fh.read().strip() or "another process"
                raise MonkeysError(
                    f"{self.path} is being written ({name}) by pid {holder}; wait for it to finish or use another --run"
                ) from None
            fh.seek(0)
            fh.truncate()
            fh.write(str(os.getpid()))
            fh.flush()
            t = self.table(name)
            t.remove_temporaries()
            t.shards(quarantine=True)  # a corrupt shard is moved aside; its rows get redone
            yield t
        finally:
            fh.close()

    # -- samples -------------------------------------------------------------------------------------
    def samples_table(self, columns: list[str] | None = None) -> pa.Table:
        return self.table("samples").read(columns)

    def samples(self, columns: list[str] | None = None) -> pd.DataFrame:
        """Samples as a DataFrame; pass `columns` to skip reading the (large) text column."""
        return self.samples_table(columns).to_pandas()

    def stored_indices(self) -> dict[str, np.ndarray]:
        """Sorted sample indices stored per problem (reads two small columns only, without Python strings
        per row, so it stays fast at 10^7 samples)."""
        t = self.samples_table(["problem_id", "sample_index"])
        if t.num_rows == 0:
            return {}
        codes = pc.dictionary_encode(t.column("problem_id")).combine_chunks()
        names = codes.dictionary.to_pylist()
        pid = codes.indices.to_numpy(zero_copy_only=False)
        idx = t.column("sample_index").to_numpy()
        order = np.lexsort((idx, pid))
        pid, idx = pid[order], idx[order]
        cuts = np.flatnonzero(np.diff(pid)) + 1
        return {
            names[int(group[0])]: part
            for group, part in zip(np.split(pid, cuts), np.split(idx, cuts), strict=True)
        }

    def num_samples(self) -> int:
        return self.table("samples").num_rows()

    # -- verdicts and scores -------------------------------------------------------------------------
    def verdicts(self, verifier: str | None = None) -> pd.DataFrame:
        """Verdicts of `verifier` (all verifiers when None). Where a verifier has several verdict sets
        (versions, or options such as the time limit), only its current set is returned: the one the
        manifest names (see `verdict_sets.py`), else the one written last."""
        df = self.table("verdicts").read().to_pandas()
        if verifier is not None:
            df = df[df["verifier"] == verifier]
        if df.empty:
            return df.reset_index(drop=True)
        df = df[current_rows(df, self.manifest)]
        return df.drop_duplicates(["verifier", "problem_id", "sample_index"], keep="last").reset_index(
            drop=True
        )

    def scores(self, scorer: str | None = None) -> pd.DataFrame:
        """Scores stored under `scorer` (all names when None). Where a name holds scores of several
        identities (version, model, options), only the newest identity written is returned, one row per
        sample."""
        df = self.table("scores").read().to_pandas()
        if scorer is not None:
            df = df[df["scorer"] == scorer]
        if df.empty:
            return df.reset_index(drop=True)
        df = df.assign(model=df["model"].fillna(""), options=df["options"].fillna("{}"))
        ident = df["scorer_version"] + "\0" + df["model"] + "\0" + df["options"]
        latest = ident.groupby(df["scorer"]).last()
        df = df[ident.to_numpy() == df["scorer"].map(latest).to_numpy()]
        return df.drop_duplicates(["scorer", "problem_id", "sample_index"], keep="last").reset_index(
            drop=True
        )
