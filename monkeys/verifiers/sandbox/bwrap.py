"""The bubblewrap backend: a warm supervisor in fresh namespaces, as an unprivileged user.

No network (a private, empty net namespace), a read-only view of /usr only (no /etc, /home, /work or /root),
private size-capped tmpfs for /tmp and /dev/shm, a new PID namespace whose PID 1 is the zygote (killing it
kills everything in it), uid 65534 inside (when we are root we drop to 65534 before starting bwrap). Each
sandbox has its own user namespace, and RLIMIT_NPROC counts per user namespace, so one sandbox's fork bomb
cannot use up another's processes.
"""

from __future__ import annotations

import os
import queue
import select
import shutil
import subprocess
import tempfile
import threading
import time
from concurrent.futures import Future
from typing import IO

from monkeys.errors import MonkeysError
from monkeys.verifiers.sandbox.base import PINNED_ENV, SANDBOX_UID, SANDBOXES, ServerSandbox, server_source

TMPFS_BYTES = 256 << 20


class PipeChannel:
    """A Channel over a child process's stdin/stdout."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc
        assert proc.stdin is not None and proc.stdout is not None
        self._in = proc.stdin.fileno()
        self._out = proc.stdout.fileno()

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self._in, view) :]

    def read(self, n: int, deadline: float) -> bytes:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([self._out], [], [], left)[0]:
            raise TimeoutError
        return os.read(self._out, n)

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, 9)
            except OSError:
                self.proc.kill()
        self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if f is not None:
                f.close()


def _drop_privileges() -> None:
    if os.getuid() == 0:
        os.setgroups([])
        os.setgid(SANDBOX_UID)
        os.setuid(SANDBOX_UID)


def bwrap_argv(python: str = "/usr/bin/python3", source: str | None = None) -> list[str]:
    argv = [
        "bwrap",
        "--unshare-all",  # user, ipc, pid, net, uts, cgroup namespaces: no network at all, not even loopback
        "--unshare-user",
        "--disable-userns",  # no nested namespaces from inside
        "--die-with-parent",
        "--new-session",
        "--as-pid-1",  # the zygote is PID 1: no program can signal it, and bwrap's own init (which holds
        # the host pipes) does not exist inside
        "--uid", str(SANDBOX_UID),
        "--gid", str(SANDBOX_UID),
        "--hostname", "sandbox",
        "--ro-bind", "/usr", "/usr",
    ]  # fmt: skip
    for link in ("bin", "lib", "lib64", "sbin"):
        target = os.readlink(f"/{link}") if os.path.islink(f"/{link}") else None
        if target:
            argv += ["--symlink", target, f"/{link}"]
        elif os.path.isdir(f"/{link}"):
            argv += ["--ro-bind", f"/{link}", f"/{link}"]
    argv += [
        "--proc", "/proc",
        "--dev", "/dev",
        "--size", str(TMPFS_BYTES), "--tmpfs", "/tmp",
        "--size", str(TMPFS_BYTES // 4), "--tmpfs", "/dev/shm",
        "--remount-ro", "/",
        "--chdir", "/tmp",
        "--clearenv",
    ]  # fmt: skip
    for key, value in PINNED_ENV.items():
        argv += ["--setenv", key, value]
    return [*argv, python, "-s", "-c", source or server_source(), "bwrap"]


@SANDBOXES.register("bwrap")
class BwrapSandbox(ServerSandbox):
    name = "bwrap"

    def __init__(self, python: str = "/usr/bin/python3") -> None:
        super().__init__()
        if shutil.which("bwrap") is None:
            raise MonkeysError(
                "bubblewrap is not installed; run `apt-get install bubblewrap` or .ci/sandbox.sh setup"
            )
        self.python = python
        self._stderr: IO[bytes] | None = None

    def hint(self) -> str:
        said = ""
        if self._stderr is not None:
            self._stderr.seek(0)
            said = self._stderr.read().decode(errors="replace").strip()[-300:]
        return f"bwrap said: {said}; check that unprivileged user namespaces work (`bwrap --unshare-all --ro-bind / / true`)"

    def _connect(self) -> PipeChannel:
        if self._stderr is not None:
            self._stderr.close()
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115  (lives as long as this supervisor)
        proc = spawn(
            bwrap_argv(self.python, self._source()),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            preexec_fn=_drop_privileges,
            start_new_session=True,
            cwd="/",
        )
        return PipeChannel(proc)

    def close(self) -> None:
        super().close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None


_requests: queue.Queue[tuple[list[str], dict, Future[subprocess.Popen[bytes]]]] = queue.Queue()
_spawner_lock = threading.Lock()
_spawner: threading.Thread | None = None


def _spawn_forever() -> None:
    while True:
        argv, kwargs, fut = _requests.get()
        try:
            fut.set_result(subprocess.Popen(argv, **kwargs))
        except BaseException as e:
            fut.set_exception(e)


def spawn(argv: list[str], **kwargs: object) -> subprocess.Popen[bytes]:
    """Popen from one long-lived thread: bwrap's --die-with-parent fires when the *thread* that started
    it exits, and verifier worker threads come and go."""
    global _spawner
    with _spawner_lock:
        if _spawner is None:
            _spawner = threading.Thread(target=_spawn_forever, name="monkeys-sandbox-spawner", daemon=True)
            _spawner.start()
    fut: Future[subprocess.Popen[bytes]] = Future()
    _requests.put((argv, kwargs, fut))
    return fut.result()
