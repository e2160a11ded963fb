"""Third-party output into a log file, so the terminal shows only monkeys' own lines.

vLLM, torch and transformers print start-up warnings from Python loggers, the `warnings` module and C++
code alike. Only a redirection of the process's file descriptors 1 and 2 catches all of them, so while the
context is open both point at the log file, and our own consoles write to duplicates of the original
descriptors instead. Nothing is lost: `--verbose` leaves the descriptors alone.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from rich.console import Console

from monkeys.errors import MonkeysError


def log_path(run_dir: str | os.PathLike[str], command: str) -> Path:
    """`<run>/logs/<command>-<UTC time>.log`, made writable now (so a bad --run fails before any work)."""
    logs = Path(run_dir) / "logs"
    try:
        logs.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise MonkeysError(
            f"cannot write run directory {run_dir}: {exc.strerror}; choose a writable --run"
        ) from None
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return logs / f"{command}-{stamp}.log"


@contextlib.contextmanager
def third_party_output_to(path: Path | None, consoles: Sequence[Console]) -> Iterator[None]:
    """While open, fds 1 and 2 go to `path`; `consoles` keep writing where they wrote before.

    `path=None` (verbose) changes nothing."""
    if path is None:
        yield
        return
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    saved = {fd: os.dup(fd) for fd in (1, 2)}
    olds = [c.file for c in consoles]
    pinned = [c._file for c in consoles]  # None: the console follows sys.stdout/sys.stderr (rich)
    try:
        log = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    except OSError as exc:
        for fd in saved.values():
            os.close(fd)
        raise MonkeysError(f"cannot write log file {path}: {exc.strerror}; choose a writable --run") from None
    terminals = []
    try:
        for console, old in zip(consoles, olds, strict=True):
            fd = saved[2] if old is sys.stderr or old is sys.__stderr__ else saved[1]
            if old not in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
                continue  # a console writing to its own file (tests, a StringIO) is left alone
            term = io.TextIOWrapper(os.fdopen(os.dup(fd), "wb", buffering=0), write_through=True)
            terminals.append(term)
            console.file = term
        os.dup2(log, 1)
        os.dup2(log, 2)
        yield
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os.dup2(saved[1], 1)
        os.dup2(saved[2], 2)
        for fd in (*saved.values(), log):
            os.close(fd)
        for console, own in zip(consoles, pinned, strict=True):
            console._file = own
        for term in terminals:
            with contextlib.suppress(Exception):
                term.close()
        with contextlib.suppress(OSError):
            if path.stat().st_size == 0:
                path.unlink()  # nothing was said: leave no empty log behind
