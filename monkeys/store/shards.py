"""An append-only table kept as Parquet shards in one directory.

Every append is one new shard written under a temporary name, fsynced and renamed into place, so a kill at
any moment leaves either the whole shard or nothing. Compaction writes a merged shard whose footer names the
shards it replaces; readers ignore replaced shards, so a kill during compaction never duplicates a row.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import uuid
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from monkeys.errors import MonkeysError

SUFFIX = ".parquet"
TMP_PREFIX = ".tmp-"
REPLACES_KEY = b"monkeys.replaces"


def fsync_dir(directory: Path) -> None:
    """Make a rename inside `directory` durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def ensure_writable(path: Path, what: str) -> None:
    """A one-line MonkeysError, before any work, unless files can be made in directory `path` (or, if it
    does not exist yet, in its nearest existing parent) and every file and folder already in it can be
    replaced."""
    import tempfile

    d = Path(path)
    while not d.exists() and d != d.parent:
        d = d.parent
    try:
        with tempfile.NamedTemporaryFile(dir=d, prefix=TMP_PREFIX):
            pass
        if d == Path(path):
            for sub in (d, *(p for p in d.iterdir() if p.is_dir())):
                with tempfile.NamedTemporaryFile(dir=sub, prefix=TMP_PREFIX):
                    pass
    except OSError as e:
        raise MonkeysError(
            f"{what} {path} cannot be written ({e.strerror or e}); fix its permissions or mount, or choose "
            "another path"
        ) from None


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` so a reader sees the old file or the new one, never a torn one."""
    tmp = path.with_name(f"{TMP_PREFIX}{path.name}.{uuid.uuid4().hex[:8]}")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def write_parquet_atomic(table: pa.Table, path: Path, metadata: dict[bytes, bytes] | None = None) -> None:
    """Write a Parquet file under a temporary name, fsync it, then rename it into place."""
    if metadata:
        merged = dict(table.schema.metadata or {})
        merged.update(metadata)
        table = table.replace_schema_metadata(merged)
    tmp = path.with_name(f"{TMP_PREFIX}{path.name}")
    with open(tmp, "wb") as fh:
        pq.write_table(table, fh, compression="zstd", row_group_size=64 * 1024)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


class ShardedTable:
    """One logical table: a directory of immutable Parquet shards sharing a schema."""

    def __init__(self, directory: Path, schema: pa.Schema) -> None:
        self.directory = Path(directory)
        self.schema = schema

    # -- writing -------------------------------------------------------------------------------------
    def append(self, table: pa.Table) -> Path | None:
        """Store `table` as one new shard; returns its path (None for an empty table)."""
        if table.num_rows == 0:
            return None
        table = _conform(table, self.schema)
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}{SUFFIX}"
        write_parquet_atomic(table, path)
        return path

    def remove_temporaries(self) -> int:
        """Delete shards a killed writer left half-written (only call while holding the writer lock)."""
        removed = 0
        if self.directory.is_dir():
            for p in self.directory.glob(f"{TMP_PREFIX}*"):
                p.unlink(missing_ok=True)
                removed += 1
        return removed

    def compact(self, max_rows: int = 2_000_000) -> int:
        """Merge small shards into larger ones; returns how many shards were replaced.

        Only the writer-lock holder may call this. Safe against a kill at any point: the merged shard lists
        the shards it replaces in its footer, and readers skip those until they are deleted.
        """
        live = self.shards()
        small = [p for p in live if pq.ParquetFile(p).metadata.num_rows < max_rows // 4]
        if len(small) < 2:
            return 0
        groups: list[list[Path]] = [[]]
        rows = 0
        for p in small:
            n = pq.ParquetFile(p).metadata.num_rows
            if groups[-1] and rows + n > max_rows:
                groups.append([])
                rows = 0
            groups[-1].append(p)
            rows += n
        replaced = 0
        for group in groups:
            if len(group) < 2:
                continue
            merged = pa.concat_tables([_conform(pq.read_table(p), self.schema) for p in group])
            path = self.directory / f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}{SUFFIX}"
            names = json.dumps([p.name for p in group]).encode()
            write_parquet_atomic(merged, path, {REPLACES_KEY: names})
            for p in group:
                p.unlink(missing_ok=True)
            fsync_dir(self.directory)
            replaced += len(group)
        return replaced

    # -- reading -------------------------------------------------------------------------------------
    def _scan(self) -> Iterator[tuple[Path, pq.FileMetaData | None]]:
        if not self.directory.is_dir():
            return
        for p in sorted(self.directory.glob(f"*{SUFFIX}")):
            if p.name.startswith(TMP_PREFIX):
                continue
            try:
                yield p, pq.ParquetFile(p).metadata
            except (OSError, pa.ArrowException):
                yield p, None

    def shards(self, quarantine: bool = False) -> list[Path]:
        """The live shards, oldest first. A corrupt shard is skipped with a warning (and moved aside when
        `quarantine` is set, so its rows are redone rather than half-read)."""
        found: list[tuple[Path, pq.FileMetaData]] = []
        for p, meta in self._scan():
            if meta is None:
                warnings.warn(f"skipping corrupt shard {p}; its rows will be redone", stacklevel=2)
                if quarantine:
                    os.replace(p, p.with_name(p.name + ".corrupt"))
                continue
            found.append((p, meta))
        replaced: set[str] = set()
        for _, meta in found:
            kv = meta.metadata or {}
            if REPLACES_KEY in kv:
                replaced.update(json.loads(kv[REPLACES_KEY]))
        return [p for p, _ in found if p.name not in replaced]

    def num_rows(self) -> int:
        return sum(pq.ParquetFile(p).metadata.num_rows for p in self.shards())

    def read(self, columns: list[str] | None = None) -> pa.Table:
        """All rows as one Arrow table, reading only `columns` from disk (column projection)."""
        cols = list(columns) if columns is not None else self.schema.names
        unknown = [c for c in cols if c not in self.schema.names]
        if unknown:
            raise MonkeysError(f"unknown column(s) {unknown}; available: {self.schema.names}")
        schema = pa.schema([self.schema.field(c) for c in cols])
        parts = []
        for p in self.shards():
            try:
                parts.append(_read_shard(p, schema))
            except (OSError, pa.ArrowException) as e:
                self._set_aside(p, e)
        return pa.concat_tables(parts) if parts else schema.empty_table()

    def _set_aside(self, p: Path, e: Exception) -> None:
        """A shard whose footer reads but whose data pages do not: moved aside like any corrupt shard, so
        its rows are redone instead of every later read failing."""
        warnings.warn(
            f"skipping corrupt shard {p} ({type(e).__name__}); its rows will be redone", stacklevel=3
        )
        with contextlib.suppress(OSError):
            os.replace(p, p.with_name(p.name + ".corrupt"))

    def iter_batches(
        self, columns: list[str] | None = None, batch_size: int = 65536
    ) -> Iterator[pa.RecordBatch]:
        """Stream rows shard by shard, for tables too large to hold in memory at once."""
        cols = list(columns) if columns is not None else self.schema.names
        schema = pa.schema([self.schema.field(c) for c in cols])
        for p in self.shards():
            try:  # a shard is read whole before any of its rows is yielded: a bad page yields none of it
                f = pq.ParquetFile(p)
                have = [c for c in cols if c in f.schema_arrow.names]
                batches = list(f.iter_batches(batch_size=batch_size, columns=have))
            except (OSError, pa.ArrowException) as e:
                self._set_aside(p, e)
                continue
            for batch in batches:
                yield pa.RecordBatch.from_arrays(
                    [
                        batch.column(c).cast(schema.field(c).type)
                        if c in have
                        else pa.nulls(batch.num_rows, schema.field(c).type)
                        for c in cols
                    ],
                    schema=schema,
                )


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """`table` in `schema`'s column order and types. A nullable column the table lacks (a shard written
    before the column existed) reads as nulls, so old run directories open unchanged."""
    n = table.num_rows
    cols = []
    for f in schema:
        if f.name in table.column_names:
            cols.append(table.column(f.name).cast(f.type))
        elif f.nullable:
            cols.append(pa.nulls(n, f.type))
        else:
            raise MonkeysError(f"a shard lacks the required column {f.name!r}; it was not written by monkeys")
    return pa.Table.from_arrays(cols, schema=schema)


def _read_shard(path: Path, schema: pa.Schema) -> pa.Table:
    have = pq.ParquetFile(path).schema_arrow.names
    return _conform(pq.read_table(path, columns=[c for c in schema.names if c in have]), schema)


class ShardBuffer:
    """The one buffered shard writer: rows gathered column by column and appended to a table as one shard
    when `flush_rows` rows or `flush_seconds` have gathered (and on `flush()`), so a kill loses at most
    that much work and never part of a group added together. `constants` fill whole columns at flush time
    (a verifier's name on every verdict row), columns never given are null; `before_flush` runs first (the verdict cache is written
    before the run, so a kill between the two costs no re-check)."""

    def __init__(
        self,
        append: Callable[[pa.Table], object],
        schema: pa.Schema,
        flush_seconds: float = 2.0,
        flush_rows: int = 50_000,
        constants: dict[str, Any] | None = None,
        before_flush: Callable[[], None] | None = None,
    ) -> None:
        self.append, self.schema = append, schema
        self.flush_seconds, self.flush_rows = flush_seconds, flush_rows
        self.constants = dict(constants or {})
        self.before_flush = before_flush
        self.columns: dict[str, list[Any]] = {n: [] for n in schema.names if n not in self.constants}
        self.rows = 0  # rows waiting
        self.written = 0  # rows appended so far
        self.shards = 0  # shards appended so far
        self.last = time.monotonic()

    def add(self, columns: Mapping[str, Sequence[Any]], n: int) -> None:
        """Append `n` rows given as one sequence per column, then flush if one is due."""
        for name, values in columns.items():
            self.columns[name].extend(values)
        self.rows += n
        if self.rows >= self.flush_rows or time.monotonic() - self.last >= self.flush_seconds:
            self.flush()

    def flush(self) -> int:
        """Append what is waiting as one shard; returns the rows written."""
        self.last = time.monotonic()
        if self.before_flush is not None:
            self.before_flush()
        n = self.rows
        if n:
            cols: dict[str, Any] = {}
            for name in self.schema.names:  # a column never given (token counts of imports) is null
                if name not in self.constants:
                    cols[name] = self.columns[name] or [None] * n
            for name, value in self.constants.items():
                cols[name] = [value] * n
            self.append(pa.Table.from_pydict(cols, schema=self.schema))
            self.written += n
            self.shards += 1
        for values in self.columns.values():
            values.clear()
        self.rows = 0
        return n
