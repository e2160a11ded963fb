"""One Lean REPL process (leanprover-community/repl) and a pool of warm ones keyed by header.

Protocol: a JSON object per command, commands separated by a blank line; each answer is a JSON object
followed by a blank line. `{"cmd": text}` makes a new environment (imports allowed); `{"cmd": text, "env": n}`
runs in environment n; answers carry `env`, and `messages` / `sorries` when there are any; a command the REPL
itself cannot run gets `{"message": ...}`.

`import Mathlib` takes tens of seconds and gigabytes, so each process imports its header once and every
proof runs as a command in an environment derived from it (so proofs cannot see one another). A proof that
runs past its time limit has its process killed (its process group, never anything else) and replaced; a
process is limited in address space and replaced after `max_uses` proofs, since every command's environment
stays in its memory.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import resource
import select
import signal
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


class ReplTimeout(Exception):
    """The REPL did not answer in time; the process has been killed."""


class ReplDied(Exception):
    """The REPL process exited or wrote something that is not the protocol (out of memory, a crash)."""


@dataclass(frozen=True)
class ReplConfig:
    command: tuple[str, ...]  # e.g. ("lake", "env", "/path/to/repl/.lake/build/bin/repl")
    cwd: str | None = None  # the Lake project whose packages the REPL sees
    memory_mb: int = 16_384  # address-space limit per process
    max_uses: int = 200  # proofs before the process is replaced
    header_timeout: float = 600.0  # importing Mathlib on a cold cache is slow


def _limit(memory_mb: int) -> Any:
    def apply() -> None:
        os.setsid()  # its own process group: a kill reaches its children (lake -> repl) and nothing else
        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return apply


class Repl:
    """A live REPL with its header imported; `run` sends one command and waits for its answer."""

    def __init__(self, config: ReplConfig, header: str) -> None:
        self.config = config
        self.header = header
        self.uses = 0
        self.proc = subprocess.Popen(
            list(config.command),
            cwd=config.cwd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            preexec_fn=_limit(config.memory_mb),
        )
        self._buf = b""
        answer = self.send({"cmd": header}, config.header_timeout)
        if "env" not in answer:
            self.kill()
            raise ReplDied(f"the header did not load: {str(answer.get('message', answer))[:200]}")
        bad = [
            m for m in answer.get("messages") or [] if isinstance(m, dict) and m.get("severity") == "error"
        ]
        if bad:
            self.kill()
            raise ReplDied(f"the header has errors: {str(bad[0].get('data', ''))[:200]}")
        self.header_env = int(answer["env"])

    def send(self, command: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Write one command, read one answer; on a time-out the process is killed."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        try:
            self.proc.stdin.write(json.dumps(command, ensure_ascii=False).encode() + b"\n\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            self.kill()
            raise ReplDied(f"the REPL exited ({exc})") from None
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while True:
            text = self._take_answer()
            if text is not None:
                try:
                    out = json.loads(text)
                except json.JSONDecodeError:
                    self.kill()
                    raise ReplDied(f"the REPL wrote something that is not JSON: {text[:120]!r}") from None
                if not isinstance(out, dict):
                    self.kill()
                    raise ReplDied("the REPL answered with something that is not a JSON object")
                return out
            left = deadline - time.monotonic()
            if left <= 0:
                self.kill()
                raise ReplTimeout(f"no answer within {timeout:g}s")
            ready, _, _ = select.select([fd], [], [], min(left, 1.0))
            if ready:
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    code = self.proc.poll()
                    self.kill()
                    raise ReplDied(f"the REPL exited (code {code}; out of memory or a crash)")
                self._buf += chunk

    def _take_answer(self) -> str | None:
        """The next answer in the buffer: JSON text up to a blank line (the REPL's separator)."""
        stripped = self._buf.lstrip(b"\n")
        cut = stripped.find(b"\n\n")
        if cut < 0:
            return None
        self._buf = stripped[cut + 2 :]
        return stripped[:cut].decode("utf-8", errors="replace")

    def kill(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                self.proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=30)

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None


class ReplPool:
    """Up to `size` warm REPLs in all, each bound to one header; leased to one proof at a time."""

    def __init__(self, config: ReplConfig, size: int) -> None:
        self.config = config
        self.size = max(1, size)
        self._idle: dict[str, list[Repl]] = {}
        self._count = 0
        self._cond = threading.Condition()
        self.started = 0
        self.recycled = 0
        self.killed = 0

    def lease(self, header: str) -> Repl:
        with self._cond:
            while True:
                idle = self._idle.get(header)
                if idle:
                    return idle.pop()
                if self._count < self.size:
                    self._count += 1
                    break
                # all busy or bound to other headers: retire an idle one of another header, else wait
                other = next((h for h, repls in self._idle.items() if repls), None)
                if other is not None:
                    self._idle[other].pop().kill()
                    self._count -= 1
                    continue
                self._cond.wait()
        try:
            repl = Repl(self.config, header)
        except BaseException:
            with self._cond:
                self._count -= 1
                self._cond.notify()
            raise
        self.started += 1
        return repl

    def give_back(self, repl: Repl) -> None:
        repl.uses += 1
        with self._cond:
            if repl.alive and repl.uses < self.config.max_uses:
                self._idle.setdefault(repl.header, []).append(repl)
            else:
                if repl.alive:
                    self.recycled += 1
                    repl.kill()
                else:
                    self.killed += 1
                self._count -= 1
            self._cond.notify()

    def close(self) -> None:
        with self._cond:
            for repls in self._idle.values():
                for r in repls:
                    r.kill()
            self._idle.clear()
            self._count = 0


def run_all(pool: ReplPool, jobs: Sequence[Any], work: Any, workers: int) -> list[Any]:
    """`work(pool, job)` for every job on `workers` threads, results in order."""
    results: list[Any] = [None] * len(jobs)
    todo: queue.Queue[int] = queue.Queue()
    for i in range(len(jobs)):
        todo.put(i)

    def loop() -> None:
        while True:
            try:
                i = todo.get_nowait()
            except queue.Empty:
                return
            results[i] = work(pool, jobs[i])

    threads = [threading.Thread(target=loop, daemon=True) for _ in range(max(1, min(workers, len(jobs))))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results
