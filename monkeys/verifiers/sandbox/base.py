"""The sandbox seam: run a program in isolation, get back what it did, behind a registry of backends.

A sandbox is a general execution facility and knows nothing of verifiers, tests or verdicts. A `Job` is a
program (Python source run in a warm interpreter, or a `command`), the files, stdin inputs, environment and
`Limits` of its runs; each run returns a `RunResult` (exit status, stdout, stderr, timings). Two generic
mechanisms serve callers that must not trust the program (the code verifiers in `verifiers/code/`):

- `modules`: trusted, stdlib-only Python modules loaded once into the warm interpreter before any job,
  so that `main` (a function of one of them that runs the program in its own process) costs no import;
- `companion`: a second, trusted process that never runs a line of the program, connected to the program
  process by a socket, with a private `report` pipe. Only the companion holds that pipe, and its bytes
  reach the host through the supervisor's channel, which no program can reach: whatever the caller
  decides from `report` is decided where the program cannot write.

A backend only knows how to start one warm supervisor (`_server.py`) somewhere isolated and hand back a byte
channel to it; the framing, the restart-after-crash logic and the reuse of a warm supervisor for as long as
jobs ask for the same `modules` live here, shared by all.
"""

from __future__ import annotations

import json
import queue
import struct
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import ClassVar, Protocol

from monkeys.errors import MonkeysError
from monkeys.registry import Registry

_SERVER = "\n".join((Path(__file__).parent / name).read_text() for name in ("_sweep.py", "_server.py"))
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
REPORT_BYTES = 4096  # the most a companion may write to its report pipe
MAX_SOURCE = 120 << 10  # the supervisor and its modules travel as one argument (Linux: at most 128 KiB)

Modules = tuple[tuple[str, str], ...]  # (module name, source) pairs


def server_source(modules: Modules = ()) -> str:
    """The text every backend runs with `python3 -s -c`: the sweep and the supervisor, told which modules to
    load."""
    text = f"MODULES = {dict(modules)!r}\n" + _SERVER
    if len(text.encode()) > MAX_SOURCE:
        raise ValueError(f"the sandbox modules make a {len(text)}-byte server, over {MAX_SOURCE} bytes")
    return text


@dataclass(frozen=True)
class Limits:
    """Hard limits for one run of a program (and of its companion, each)."""

    wall: float = 3.0  # seconds
    cpu: float = 3.0  # seconds of CPU time
    memory_mb: int = 1024  # address space
    processes: int = 32  # RLIMIT_NPROC in bwrap (threads count; a companion's processes too)
    output_bytes: int = 8 << 20  # stdout and stderr, each
    file_bytes: int = 16 << 20  # largest file the program may write


@dataclass(frozen=True)
class Call:
    """A function of one of the job's `modules`, named "module:function", and the JSON-able `args` it gets.

    As `Job.main` it runs in the program process as `function(program, args, channel) -> exit status`
    (`channel`: the socket fd to the companion, or None); as `Job.companion`, in the companion process as
    `function(args, channel, report) -> exit status`, where `report` is the fd of the report pipe."""

    function: str
    args: Mapping[str, object] = field(default_factory=dict)

    @property
    def module(self) -> str:
        return self.function.partition(":")[0]


@dataclass(frozen=True)
class Job:
    """One program, run once per stdin in `inputs`, each time in an emptied working directory holding
    `files` (relative path -> text). The program is Python source, run as `python3 <filename> <argv>`
    would run it, in a warm interpreter; or, with `main`, handed to that trusted function in the program's
    own process; or, with `command`, an executable run with those arguments (the program text then unused).
    `env` adds to the pinned environment. A `companion` runs beside every run (see `Call`); the run's exit
    status is then the companion's, and its report is returned."""

    program: str
    limits: Limits = Limits()
    inputs: tuple[str, ...] = ("",)
    files: Mapping[str, str] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)
    argv: tuple[str, ...] = ()
    filename: str = "main.py"
    command: tuple[str, ...] = ()
    modules: Modules = ()
    main: Call | None = None
    companion: Call | None = None

    def __post_init__(self) -> None:
        if not self.inputs:
            raise ValueError('a job needs at least one stdin in inputs ("" for none)')
        loaded = {name for name, _ in self.modules}
        for call in (self.main, self.companion):
            if call is not None and call.module not in loaded:
                raise ValueError(f"{call.function} names a module that is not among the job's modules")
        if self.main is not None and self.command:
            raise ValueError("a job runs either a command or its program with main, not both")
        for name in self.files:
            path = PurePosixPath(name)
            if path.is_absolute() or ".." in path.parts or not path.parts:
                raise ValueError(f"file {name!r} must be a relative path inside the working directory")


@dataclass(frozen=True)
class RunResult:
    """What one run did: the deciding process's exit (the companion's when the job has one), the program's
    output, the wall clock of the run and the CPU time of every process in it. `report`: what the companion
    wrote to its report pipe ("" without one). `crashed`: the supervisor died or hung during this run."""

    index: int
    exit_code: int | None
    signal: int | None
    timed_out: bool
    output_exceeded: bool
    wall: float
    cpu: float
    stdout: str
    stderr: str
    report: str = ""
    crashed: str = ""


class Sandbox(ABC):
    """Runs jobs in isolation: one RunResult per input, in order. `keep_going` sees each run's result and
    says whether to run the next input. A backend that cannot honour a job's `modules`, `main`,
    `companion` or `command` raises ValueError rather than run it some other way."""

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
        self._modules: Modules = ()  # what the running supervisor loaded

    # backends implement these two; `_connect` starts the supervisor from `self._source()`
    def _connect(self) -> Channel:
        raise NotImplementedError

    def _source(self) -> str:
        return server_source(self._modules)

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
        if job.modules != self._modules:  # another set of modules: a fresh supervisor loads them
            self._reset()
            self._modules = job.modules
        chan = self._ensure()
        payload = {
            "program": job.program,
            "inputs": list(job.inputs),
            "limits": asdict(job.limits),
            "files": dict(job.files),
            "env": dict(job.env),
            "argv": list(job.argv),
            "filename": job.filename,
            "command": list(job.command),
            "main": _call(job.main),
            "companion": _call(job.companion),
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
                    report=msg["report"],
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


def _call(call: Call | None) -> dict | None:
    return None if call is None else {"function": call.function, "args": dict(call.args)}


def create_sandbox(name: str, unsafe_no_sandbox: bool = False, **options: object) -> Sandbox:
    """Make a sandbox by name; `none` only with the explicit unsafe flag."""
    if name == "none" and not unsafe_no_sandbox:
        raise MonkeysError(
            "sandbox 'none' runs model code on this machine unconfined; pass --unsafe-no-sandbox"
        )
    return SANDBOXES.create(name, **options)


def names() -> Sequence[str]:
    return SANDBOXES.names()
