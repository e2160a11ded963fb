"""Worker processes that run verifier checks under a hard wall-clock limit.

Each worker builds its own verifier and runs the checks of one problem's batch, sending each verdict back
as soon as it is ready. The parent watches a deadline per check: a check that runs past it has its worker
killed (SIGKILL, which no SymPy loop can ignore) and gets a `timeout` verdict; a worker that dies (segfault,
out of memory) gives the check it was running an `error` verdict. Either way the rest of the batch goes to a
fresh worker. Workers are forked from a fork server that has imported the verifier's heavy modules once, so
replacing a killed worker costs milliseconds, and no worker inherits the parent's threads.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import multiprocessing.connection as mpc
import os
import sys
import time
import traceback
from collections import deque
from collections.abc import Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from monkeys.errors import MonkeysError
from monkeys.records import Problem
from monkeys.verifiers.base import Verdict

STARTUP_LIMIT = 120.0  # seconds for a worker to build its verifier
BASE_PRELOAD = ("monkeys.verifiers", __name__)  # what every worker needs, imported once by the fork server


@dataclass
class Batch:
    """Checks of one problem: (key, completion) pairs, run in order by one worker."""

    problem: Problem
    items: deque[tuple[Hashable, str]] = field(default_factory=deque)


def _worker(conn: mpc.Connection, name: str, options: dict[str, Any], imports: Sequence[str]) -> None:
    """Worker main loop: import the module that registers the verifier, build it, then check batches until
    told to stop (None)."""
    try:
        import importlib

        import monkeys.verifiers  # noqa: F401  (registers the built-in verifiers)
        from monkeys.verifiers.base import VERIFIERS

        for module in imports:
            importlib.import_module(module)

        verifier = VERIFIERS.create(name, **options)
    except BaseException as exc:  # report any failure to build, then exit
        conn.send(("failed", f"{type(exc).__name__}: {exc}"))
        return
    with contextlib.suppress(Exception):  # lazy initialisation must not count against the first check's limit
        verifier.warm_up()
    conn.send(("ready", os.getpid()))
    while True:
        msg = conn.recv()
        if msg is None:
            return
        problem, items = msg
        for key, text in items:
            t0 = time.perf_counter()
            try:
                verdict = verifier.check(problem, text)
                if not isinstance(verdict, Verdict):
                    verdict = Verdict(
                        "error", None, f"check returned {type(verdict).__name__}, not a Verdict"
                    )
            except Exception as exc:
                tb = traceback.format_exception_only(type(exc), exc)[-1].strip()
                verdict = Verdict("error", None, f"check raised {tb[:300]}")
            if verdict.seconds <= 0:
                verdict = replace(verdict, seconds=time.perf_counter() - t0)
            conn.send((key, verdict))


@contextlib.contextmanager
def _main_hidden(imports: Sequence[str]) -> Iterator[None]:
    """A child started by the fork server re-imports the parent's main module (by name or path) before it
    runs: the CLI's whole import tree, or a script's, a few hundred milliseconds per worker, and impossible
    for a script read from stdin (`<stdin>`). Workers need only the verifier's module, so hide the main
    module for the moment of the start, unless the verifier is defined in it."""
    main = sys.modules.get("__main__")
    if main is None or "__main__" in imports:
        yield
        return
    names = vars(main)
    saved = {k: names[k] for k in ("__file__", "__spec__") if k in names}
    names.pop("__file__", None)
    names["__spec__"] = None
    try:
        yield
    finally:
        names.pop("__spec__", None)
        names.update(saved)


def prestart(preload: Sequence[str], imports: Sequence[str] = ()) -> None:
    """Start the fork server (which imports `preload`, e.g. SymPy, for a second or more) in the background,
    so a pool made later starts in milliseconds; harmless when it already runs."""
    from multiprocessing import forkserver

    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload([*BASE_PRELOAD, *preload, *imports])
    with _main_hidden(imports):
        forkserver.ensure_running()


@dataclass
class _Slot:
    process: Any
    conn: mpc.Connection
    batch: Batch | None = None
    started: float = 0.0


class CheckPool:
    """A fixed number of killable worker processes for one verifier."""

    def __init__(
        self,
        name: str,
        options: dict[str, Any],
        workers: int,
        timeout: float,
        preload: Sequence[str] = (),
        imports: Sequence[str] = (),
    ) -> None:
        if workers < 1:
            raise MonkeysError(f"--workers must be >= 1, got {workers}")
        if timeout <= 0:
            raise MonkeysError(f"--timeout must be > 0 seconds, got {timeout}")
        self.name, self.options, self.timeout, self.imports = name, options, timeout, tuple(imports)
        self._ctx = mp.get_context("forkserver")
        self._ctx.set_forkserver_preload([*BASE_PRELOAD, *preload, *self.imports])
        self._slots: list[_Slot] = []
        self._queue: deque[Batch] = deque()
        self.kills = 0
        started: list[tuple[Any, mpc.Connection]] = []
        try:
            for _ in range(workers):  # start them all, then wait: they build their verifiers in parallel
                started.append(self._start())
            for proc, conn in started:
                self._slots.append(self._ready(proc, conn))
        except BaseException:
            slotted = {id(s.process) for s in self._slots}
            for proc, conn in started:
                if id(proc) not in slotted:
                    proc.kill()
                    proc.join()
                    conn.close()
            self.close()
            raise

    def _spawn(self) -> _Slot:
        return self._ready(*self._start())

    def _start(self) -> tuple[Any, mpc.Connection]:
        parent, child = self._ctx.Pipe()
        proc = self._ctx.Process(
            target=_worker, args=(child, self.name, self.options, self.imports), daemon=True
        )
        with _main_hidden(self.imports):
            proc.start()
        child.close()
        return proc, parent

    def _ready(self, proc: Any, parent: mpc.Connection) -> _Slot:
        if not parent.poll(STARTUP_LIMIT):
            proc.kill()
            raise MonkeysError(
                f"a {self.name} verifier worker did not start within {STARTUP_LIMIT:.0f}s; check the machine's load"
            )
        try:
            msg = parent.recv()
        except EOFError:
            proc.join()
            raise MonkeysError(
                f"a {self.name} verifier worker died while starting (exit code {proc.exitcode})"
            ) from None
        if msg[0] != "ready":
            proc.join()
            raise MonkeysError(f"verifier {self.name} cannot be built: {msg[1]}")
        return _Slot(proc, parent)

    def _replace(self, slot: _Slot) -> int | None:
        """Kill the slot's worker and start a fresh one; returns the old worker's exit code."""
        slot.process.kill()
        slot.process.join()
        exitcode = slot.process.exitcode
        slot.conn.close()
        fresh = self._spawn()
        slot.process, slot.conn, slot.batch = fresh.process, fresh.conn, None
        return exitcode

    def submit(self, batches: Iterable[Batch]) -> None:
        """Queue batches; idle workers take them at the next `step`."""
        self._queue.extend(b for b in batches if b.items)

    @property
    def busy(self) -> bool:
        """Whether any batch is queued or being checked."""
        return bool(self._queue) or any(s.batch is not None for s in self._slots)

    def run(self, batches: Iterable[Batch]) -> Iterator[tuple[Hashable, Verdict]]:
        """Yield (key, verdict) for every item of every batch (and of any batch already submitted), in
        completion order."""
        self.submit(batches)
        while self.busy:
            yield from self.step()

    def step(self, timeout: float | None = None) -> list[tuple[Hashable, Verdict]]:
        """Hand queued batches to idle workers, then take every verdict that is ready, waiting at most
        `timeout` seconds for one (None: until one arrives or a check's deadline passes); a check past its
        deadline has its worker killed and gets a `timeout` verdict. Returns (key, verdict) pairs."""
        out: list[tuple[Hashable, Verdict]] = []
        queue = self._queue
        for slot in self._slots:
            while slot.batch is None and queue:
                slot.batch = queue.popleft()
                try:
                    slot.conn.send((slot.batch.problem, list(slot.batch.items)))
                except OSError:  # the idle worker died (killed from outside): replace it, retry the batch
                    queue.appendleft(slot.batch)
                    self._replace(slot)
                    continue
                slot.started = time.monotonic()
        busy = [s for s in self._slots if s.batch is not None]
        if not busy:
            return out
        wait_for = max(0.0, min(s.started + self.timeout for s in busy) - time.monotonic())
        if timeout is not None:
            wait_for = min(wait_for, timeout)
        ready = mpc.wait([s.conn for s in busy], timeout=wait_for)
        for slot in busy:
            assert slot.batch is not None
            if slot.conn in ready:
                while slot.batch is not None:  # every verdict already in the pipe, not just one
                    try:
                        key, verdict = slot.conn.recv()
                    except (EOFError, OSError):
                        out.extend(self._lost(slot, "error"))
                        break
                    slot.batch.items.popleft()
                    slot.started = time.monotonic()
                    if not slot.batch.items:
                        slot.batch = None
                    out.append((key, verdict))
                    if not slot.conn.poll():
                        break
            elif time.monotonic() >= slot.started + self.timeout and not slot.conn.poll():
                out.extend(self._lost(slot, "timeout"))
        return out

    def _lost(self, slot: _Slot, why: str) -> list[tuple[Hashable, Verdict]]:
        """The check in flight on `slot` ran out of time or killed its worker: grade it, requeue the rest."""
        assert slot.batch is not None
        batch = slot.batch
        key, _ = batch.items.popleft()
        self.kills += 1
        exitcode = self._replace(slot)
        if batch.items:
            self._queue.appendleft(batch)
        if why == "timeout":
            return [
                (
                    key,
                    Verdict(
                        "timeout", None, f"check ran past {self.timeout:g}s; worker killed", self.timeout
                    ),
                )
            ]
        return [(key, Verdict("error", None, f"verifier worker died (exit code {exitcode})", 0.0))]

    def close(self) -> None:
        for slot in self._slots:
            with contextlib.suppress(OSError, ValueError):
                slot.conn.send(None)
        deadline = time.monotonic() + 2.0
        for slot in self._slots:
            slot.process.join(max(0.0, deadline - time.monotonic()))
            if slot.process.is_alive():
                slot.process.kill()
                slot.process.join()
            slot.conn.close()
        self._slots = []

    def __enter__(self) -> CheckPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
