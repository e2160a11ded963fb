"""The sandbox seam: jobs in, per-test run records out, behind a registry of backends.

A backend only knows how to start one warm supervisor (`_server.py`) somewhere isolated and hand back a byte
channel to it; the framing and the restart-after-crash logic live here, shared by all. Whether a python job
passed is decided inside the sandbox by the supervisor from the tests process alone (see _harness.py for
the threat model), and no program can reach the channel that carries that answer.
"""

from __future__ import annotations

import json
import queue
import struct
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import ClassVar, Literal, Protocol

from monkeys.errors import MonkeysError
from monkeys.registry import Registry

# the text every backend runs with `python3 -s -c`: the python-tests harness, then the supervisor
SERVER_SOURCE = "\n".join(
    (Path(__file__).parent / name).read_text() for name in ("_harness.py", "_server.py")
)
# what every sandboxed program sees, whatever the host's settings
PINNED_ENV = {
    "PYTHONHASHSEED": "0",
    "TZ": "UTC",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "HOME": "/tmp",
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONIOENCODING": "utf-8",
}
SANDBOX_UID = 65534


@dataclass(frozen=True)
class Limits:
    """Hard limits for one run of a program (one test, or one whole python-tests harness)."""

    wall: float = 3.0  # seconds
    cpu: float = 3.0  # seconds of CPU time
    memory_mb: int = 1024  # address space
    processes: int = 32  # RLIMIT_NPROC in bwrap (threads count; the harness's own three processes too)
    output_bytes: int = 8 << 20  # stdout and stderr, each
    file_bytes: int = 16 << 20  # largest file the program may write


@dataclass(frozen=True)
class Job:
    """One program and its tests. `kind="python"`: `tests` is code run, apart from the program, in a
    namespace with the trusted `context` (HumanEval's prompt) and stubs that call the program's entry point
    (then `check(<entry_point>)`), or, without an entry point, the free names the tests use.
    `kind="stdio"`: the program runs once per input."""

    kind: Literal["python", "stdio"]
    program: str
    limits: Limits
    tests: str = ""
    entry_point: str | None = None
    inputs: tuple[str, ...] = ()
    context: str = ""


@dataclass(frozen=True)
class RunResult:
    """What one run did. `harness_passed`: the tests process returned from the tests (python jobs)."""

    index: int
    exit_code: int | None
    signal: int | None
    timed_out: bool
    output_exceeded: bool
    wall: float
    cpu: float
    stdout: str
    stderr: str
    harness_passed: bool = False
    crashed: str = ""  # the supervisor died or hung during this run (the program attacked it)


class Sandbox(ABC):
    """Runs jobs in isolation. `keep_going` sees each test's result and says whether to run the next."""

    name: ClassVar[str]

    @abstractmethod
    def run(self, job: Job, keep_going: Callable[[RunResult], bool] | None = None) -> list[RunResult]: ...

    @abstractmethod
    def close(self) -> None: ...


SANDBOXES: Registry[Sandbox] = Registry("sandbox", group="monkeys.sandboxes", base=Sandbox)


class Channel(Protocol):
    """A byte pipe to one supervisor. `read` returns b"" at EOF and raises TimeoutError past the deadline."""

    def write(self, data: bytes) -> None: ...

    def read(self, n: int, deadline: float) -> bytes: ...

    def close(self) -> None: ...


class SandboxBroken(Exception):
    """The supervisor died, hung or never started."""


class ServerSandbox(Sandbox):
    """A sandbox driving one warm supervisor through a Channel; restarts it after a crash."""

    name = "server"
    isolated = True
    rlimit_processes = True  # False where a pids cgroup limits each sandbox instead (docker)
    start_timeout = 30.0
    slack = 5.0  # seconds the supervisor may take beyond a run's own wall limit

    def __init__(self) -> None:
        self._chan: Channel | None = None

    # backends implement these two
    def _connect(self) -> Channel:
        raise NotImplementedError

    def _scratch(self) -> str:
        return "/tmp"

    def _ensure(self) -> Channel:
        if self._chan is None:
            chan = self._connect()
            try:
                self._send(
                    chan,
                    {"isolated": self.isolated, "scratch": self._scratch(), "nproc": self.rlimit_processes},
                )
                hello = self._recv(chan, time.monotonic() + self.start_timeout)
            except (SandboxBroken, OSError) as e:
                chan.close()
                raise MonkeysError(f"{self.name} sandbox did not start ({e}); {self.hint()}") from e
            if not hello.get("ready"):
                chan.close()
                raise MonkeysError(f"{self.name} sandbox did not start: {hello}; {self.hint()}")
            self._chan = chan
        return self._chan

    def hint(self) -> str:
        return "run .ci/sandbox.sh setup"

    @staticmethod
    def _send(chan: Channel, obj: dict) -> None:
        data = json.dumps(obj).encode()
        chan.write(struct.pack(">I", len(data)) + data)

    @staticmethod
    def _recv(chan: Channel, deadline: float) -> dict:
        def exact(n: int) -> bytes:
            buf = bytearray()
            while len(buf) < n:
                try:
                    chunk = chan.read(n - len(buf), deadline)
                except TimeoutError:
                    raise SandboxBroken("supervisor hung") from None
                if not chunk:
                    raise SandboxBroken("supervisor died")
                buf += chunk
            return bytes(buf)

        (size,) = struct.unpack(">I", exact(4))
        return json.loads(exact(size))

    def run(self, job: Job, keep_going: Callable[[RunResult], bool] | None = None) -> list[RunResult]:
        chan = self._ensure()
        payload = {
            "kind": job.kind,
            "program": job.program,
            "tests": job.tests,
            "context": job.context,
            "entry_point": job.entry_point,
            "inputs": list(job.inputs) if job.kind == "stdio" else [""],
            "limits": asdict(job.limits),
        }
        results: list[RunResult] = []
        wait = job.limits.wall + self.slack
        try:
            self._send(chan, payload)
            while True:
                msg = self._recv(chan, time.monotonic() + wait)
                if msg.get("end"):
                    break
                result = RunResult(
                    index=msg["index"],
                    exit_code=msg["exit_code"],
                    signal=msg["signal"],
                    timed_out=msg["timed_out"],
                    output_exceeded=msg["output_exceeded"],
                    wall=msg["wall"],
                    cpu=msg["cpu"],
                    stdout=msg["stdout"],
                    stderr=msg["stderr"],
                    harness_passed=job.kind == "python"
                    and msg["passed"] is True
                    and msg["exit_code"] == 0
                    and not msg["timed_out"],
                )
                results.append(result)
                self._send(chan, {"continue": keep_going(result) if keep_going else True})
        except (SandboxBroken, OSError, ValueError) as e:
            # the program took its supervisor down (kill -1, SIGSTOP, ...): that run fails; start afresh
            self._reset()
            hung = "hung" in str(e)
            results.append(
                RunResult(
                    index=len(results),
                    exit_code=None,
                    signal=None,
                    timed_out=hung,
                    output_exceeded=False,
                    wall=wait if hung else 0.0,
                    cpu=0.0,
                    stdout="",
                    stderr="",
                    crashed=f"sandbox supervisor {'hung' if hung else 'died'} during the run",
                )
            )
        return results

    def _reset(self) -> None:
        if self._chan is not None:
            self._chan.close()
            self._chan = None

    def close(self) -> None:
        self._reset()


@dataclass
class SandboxPool:
    """A fixed set of warm sandboxes of one backend, leased one job at a time (thread-safe)."""

    backend: str
    size: int
    options: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._free: queue.Queue[Sandbox] = queue.Queue()
        self._all: list[Sandbox] = []
        self._lock = threading.Lock()

    def _take(self) -> Sandbox:
        try:
            return self._free.get_nowait()
        except queue.Empty:
            pass
        with self._lock:
            if len(self._all) < self.size:
                sb = SANDBOXES.create(self.backend, **self.options)
                self._all.append(sb)
                return sb
        return self._free.get()

    def run(self, job: Job, keep_going: Callable[[RunResult], bool] | None = None) -> list[RunResult]:
        sb = self._take()
        try:
            return sb.run(job, keep_going)
        finally:
            self._free.put(sb)

    def close(self) -> None:
        with self._lock:
            for sb in self._all:
                sb.close()
            self._all.clear()


def create_sandbox(name: str, unsafe_no_sandbox: bool = False, **options: object) -> Sandbox:
    """Make a sandbox by name; `none` only with the explicit unsafe flag."""
    if name == "none" and not unsafe_no_sandbox:
        raise MonkeysError(
            "sandbox 'none' runs model code on this machine unconfined; pass --unsafe-no-sandbox"
        )
    return SANDBOXES.create(name, **options)


def names() -> Sequence[str]:
    return SANDBOXES.names()
