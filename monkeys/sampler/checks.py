"""Verification inside the `solve` loop: grade each finished chunk while the engine keeps sampling.

Verifiers that declare `runs_inline` (microsecond answer checks) are checked on the spot. Others (code in
a sandbox) go to a background thread that runs them through the verify stage's executor and its killable
worker pool, so the engine is never blocked on a slow test suite; their verdicts come back through `drain`.
"""

from __future__ import annotations

import queue
import threading
from typing import Any

from monkeys.records import Problem
from monkeys.verifiers.base import Verdict, Verifier

Graded = tuple[str, int, Verdict]  # problem id, sample index, verdict


class InlineChecker:
    """Checks each sample as it is submitted."""

    def __init__(self, verifier: Verifier, problems: dict[str, Problem]) -> None:
        from monkeys.verifiers.stage.runner import _safe_check

        self.verifier, self.problems, self._check = verifier, problems, _safe_check
        self._done: list[Graded] = []

    @property
    def pending(self) -> int:
        return 0

    def submit(self, items: list[tuple[str, int, str]]) -> None:
        for pid, idx, text in items:
            self._done.append((pid, idx, self._check(self.verifier.check, self.problems[pid], text)))

    def drain(self, block: bool = False) -> list[Graded]:
        out, self._done = self._done, []
        return out

    def close(self) -> None: ...


class ThreadedChecker:
    """Checks in a background thread through the verify stage's executor (worker pool or check_batch)."""

    def __init__(
        self,
        verifier: Verifier,
        name: str,
        options: dict[str, Any],
        problems: dict[str, Problem],
        workers: int,
        timeout: float,
    ) -> None:
        from monkeys.verifiers.stage.runner import _Executor

        self.problems = problems
        self.executor = _Executor(verifier, name, options, workers, timeout)
        self._in: queue.Queue[list[tuple[str, int, str]] | None] = queue.Queue()
        self._out: queue.Queue[list[Graded] | BaseException] = queue.Queue()
        self._pending = 0
        self._thread = threading.Thread(target=self._work, name="monkeys-solve-checks", daemon=True)
        self._thread.start()

    @property
    def pending(self) -> int:
        return self._pending

    def _work(self) -> None:
        from monkeys.verifiers.stage.dedup import Group

        while True:
            items = self._in.get()
            if items is None:
                return
            while True:  # take everything queued: one pool round for many chunks
                try:
                    more = self._in.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._in.put(None)
                    break
                items.extend(more)
            groups = [Group(pid, None, text, [idx]) for pid, idx, text in items]
            try:
                done = [(g.problem_id, g.members[0], v) for g, v in self.executor.run(self.problems, groups)]
            except BaseException as exc:  # surfaced in the main thread by drain
                self._out.put(exc)
                return
            self._out.put(done)

    def submit(self, items: list[tuple[str, int, str]]) -> None:
        if items:
            self._pending += len(items)
            self._in.put(list(items))

    def drain(self, block: bool = False) -> list[Graded]:
        """Verdicts finished so far; with `block`, wait for at least one batch when any is pending."""
        out: list[Graded] = []
        while True:
            try:
                got = self._out.get(block=block and not out and self._pending > 0)
            except queue.Empty:
                break
            if isinstance(got, BaseException):
                raise got
            out.extend(got)
            self._pending -= len(got)
        return out

    def close(self) -> None:
        self._in.put(None)
        self._thread.join(timeout=30)
        self.executor.close()


__all__ = ["Graded", "InlineChecker", "ThreadedChecker"]
