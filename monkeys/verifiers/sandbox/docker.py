"""The Docker backend: warm, locked-down containers reused through one long `docker exec` session each.

Each container: the locally built image (see .ci/sandbox.sh; images cannot be pulled), `--network none`,
read-only root, size-capped tmpfs /tmp, memory/pids/CPU limits, uid 65534, all capabilities dropped,
no-new-privileges. Its PID 1 is the zygote (see _server.py), which accepts the one supervisor that runs as
an exec session; the supervisor kills every other process in the container between runs. Processes are
limited by the container's pids cgroup, not RLIMIT_NPROC: every container's uid 65534 is the host's, where
RLIMIT_NPROC would count all containers (and bwrap sandboxes) together. A supervisor that dies takes its
container with it: a fresh one replaces both. Containers carry labels naming the host process that owns
them: they are removed at exit, and a later start removes those whose owner died (after a kill -9).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import select
import socket
import struct
import threading
import time
from typing import Any

from monkeys.errors import MonkeysError
from monkeys.verifiers.sandbox.base import PINNED_ENV, SANDBOX_UID, SANDBOXES, ServerSandbox

DEFAULT_HOST = "unix:///run/monkeys-docker.sock"
DEFAULT_IMAGE = "monkeys-sandbox:bookworm"
LABEL = "monkeys.verifiers.sandbox"
OWNER = "monkeys.owner"  # "<hostname>:<pid>" of the process that made the container

_live: set[str] = set()
_live_lock = threading.Lock()


def docker_host() -> str:
    """MONKEYS_DOCKER_HOST, else the socket .ci/sandbox.sh starts, else DOCKER_HOST."""
    chosen = os.environ.get("MONKEYS_DOCKER_HOST")
    if chosen:
        return chosen
    if os.path.exists(DEFAULT_HOST.removeprefix("unix://")) or not os.environ.get("DOCKER_HOST"):
        return DEFAULT_HOST
    return os.environ["DOCKER_HOST"]


def client() -> Any:
    try:
        import docker
    except ImportError as e:
        raise MonkeysError(
            "the docker sandbox needs the docker package; pip install 'monkeys[docker]'"
        ) from e
    host = docker_host()
    try:
        c = docker.DockerClient(base_url=host, timeout=60)
        c.ping()
    except Exception as e:
        raise MonkeysError(
            f"the docker sandbox needs a Docker engine, and none answers on {host}: start one "
            "(`bash .ci/sandbox.sh setup` starts a private dockerd, or `systemctl start docker`) "
            "or point MONKEYS_DOCKER_HOST at a running one"
        ) from e
    return c


def owner_tag() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def remove_stale(c: Any) -> list[str]:
    """Remove sandbox containers whose owning process (on this host) no longer runs. Returns their ids."""
    removed = []
    host = socket.gethostname()
    for ctr in c.api.containers(all=True, filters={"label": LABEL}):  # plain dicts: no per-container GET race
        owner = (ctr.get("Labels") or {}).get(OWNER, "")
        name, _, pid = owner.rpartition(":")
        if name != host or not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
            alive = True
        except ProcessLookupError:
            alive = False
        except PermissionError:
            alive = True
        if not alive:
            with contextlib.suppress(Exception):  # another process may be removing it too
                c.api.remove_container(ctr["Id"], force=True)
            removed.append(ctr["Id"])
    return removed


def _remove_all_live() -> None:
    with _live_lock:
        ids = list(_live)
        _live.clear()
    if not ids:
        return
    try:
        c = client()
        for cid in ids:
            with contextlib.suppress(Exception):
                c.api.remove_container(cid, force=True)
    except Exception:
        pass


atexit.register(_remove_all_live)


class ExecChannel:
    """A Channel over a hijacked `docker exec` socket (stdin raw, stdout in 8-byte-header frames)."""

    def __init__(self, sock: Any) -> None:
        # docker-py hands back its SocketIO wrapper on some transports and the bare socket on others
        self.sock: socket.socket = sock if isinstance(sock, socket.socket) else sock._sock
        self._raw = bytearray()  # demultiplexed stdout bytes
        self._frame_left = 0
        self._frame_stream = 1
        self._pending = bytearray()

    def write(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _fill(self, deadline: float) -> bool:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([self.sock], [], [], left)[0]:
            raise TimeoutError
        chunk = self.sock.recv(1 << 16)
        if not chunk:
            return False
        self._pending += chunk
        while self._pending:
            if self._frame_left == 0:
                if len(self._pending) < 8:
                    break
                self._frame_stream = self._pending[0]
                self._frame_left = struct.unpack(">I", self._pending[4:8])[0]
                del self._pending[:8]
                continue
            take = min(self._frame_left, len(self._pending))
            if self._frame_stream == 1:
                self._raw += self._pending[:take]
            del self._pending[:take]
            self._frame_left -= take
        return True

    def read(self, n: int, deadline: float) -> bytes:
        while not self._raw:
            if not self._fill(deadline):
                return b""
        out = bytes(self._raw[:n])
        del self._raw[:n]
        return out

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


@SANDBOXES.register("docker")
class DockerSandbox(ServerSandbox):
    name = "docker"
    slack = 10.0
    rlimit_processes = False

    def __init__(
        self, image: str | None = None, memory_mb: int = 2048, pids: int = 64, cpus: float = 1.0
    ) -> None:
        super().__init__()
        self.client = client()
        self.image = image or os.environ.get("MONKEYS_SANDBOX_IMAGE", DEFAULT_IMAGE)
        try:
            self.client.images.get(self.image)
        except Exception as e:
            raise MonkeysError(
                f"docker image {self.image} is missing; build it with .ci/sandbox.sh setup"
            ) from e
        remove_stale(self.client)
        self.memory_mb, self.pids, self.cpus = memory_mb, pids, cpus
        self.container: Any = None

    def _start_container(self) -> Any:
        ctr = self.client.containers.run(
            self.image,
            ["python3", "-s", "-c", self._source(), "docker-zygote"],
            detach=True,
            network_mode="none",
            read_only=True,
            tmpfs={"/tmp": "size=256m,mode=1777", "/dev/shm": "size=64m,mode=1777"},
            mem_limit=f"{self.memory_mb}m",
            memswap_limit=f"{self.memory_mb}m",
            pids_limit=self.pids,
            nano_cpus=int(self.cpus * 1e9),
            user=f"{SANDBOX_UID}:{SANDBOX_UID}",
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
            labels={LABEL: "1", OWNER: owner_tag()},
            environment=PINNED_ENV,
            working_dir="/tmp",
            hostname="sandbox",
        )
        with _live_lock:
            _live.add(ctr.id)
        return ctr

    def _connect(self) -> ExecChannel:
        if self.container is None:
            self.container = self._start_container()
        api = self.client.api
        exec_id = api.exec_create(
            self.container.id,
            ["python3", "-s", "-c", self._source(), "docker"],
            stdin=True,
            stdout=True,
            stderr=False,
            user=f"{SANDBOX_UID}:{SANDBOX_UID}",
            environment=PINNED_ENV,
            workdir="/tmp",
        )["Id"]
        return ExecChannel(api.exec_start(exec_id, socket=True))

    def _reset(self) -> None:
        super()._reset()
        self._remove_container()  # its zygote served the supervisor that died

    def close(self) -> None:
        super().close()
        self._remove_container()

    def _remove_container(self) -> None:
        if self.container is not None:
            cid = self.container.id
            with contextlib.suppress(Exception):
                self.container.remove(force=True)
            with _live_lock:
                _live.discard(cid)
            self.container = None
