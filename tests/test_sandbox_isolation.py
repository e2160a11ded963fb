"""What a program sees inside each sandbox backend, plus the fixtures the other sandbox/code tests import.

Docker tests need an engine and the locally built image: the `docker_engine` fixture runs
`.ci/sandbox.sh setup` when nothing answers (installing packages, starting dockerd, building the image; it
needs root) and stops the dockerd it started at the end of the session.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from monkeys.verifiers.sandbox import Job, Limits, create_sandbox
from monkeys.verifiers.sandbox.docker import DEFAULT_IMAGE, docker_host

ROOT = Path(__file__).resolve().parent.parent
BACKENDS = ["bwrap", "docker"]


def docker_ready() -> bool:
    try:
        import docker

        c = docker.DockerClient(base_url=docker_host(), timeout=10)
        c.images.get(os.environ.get("MONKEYS_SANDBOX_IMAGE", DEFAULT_IMAGE))
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def sandbox_tools() -> None:
    """bubblewrap on PATH: on a fresh machine (as root) `.ci/sandbox.sh setup` installs it."""
    if shutil.which("bwrap") is None:
        if os.geteuid() != 0:
            pytest.fail("bubblewrap is missing; run .ci/sandbox.sh setup (or apt-get install bubblewrap)")
        subprocess.run([str(ROOT / ".ci/sandbox.sh"), "setup"], check=True)


@pytest.fixture(scope="session")
def docker_engine() -> Iterator[None]:
    started = False
    if not docker_ready():
        if os.geteuid() != 0:
            pytest.skip(
                "no Docker engine with the sandbox image, and not root to start one (.ci/sandbox.sh setup)"
            )
        subprocess.run([str(ROOT / ".ci/sandbox.sh"), "setup"], check=True)
        started = True
    assert docker_ready()
    yield
    if started:
        subprocess.run([str(ROOT / ".ci/sandbox.sh"), "teardown"], check=False)


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request: pytest.FixtureRequest, sandbox_tools: None) -> str:
    if request.param == "docker":
        request.getfixturevalue("docker_engine")
    return request.param


def sandbox_uid_processes() -> list[int]:
    """Host pids running as the sandbox user (65534): bwrap supervisors and container processes."""
    pids = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                status = Path(f"/proc/{name}/status").read_text()
            except OSError:
                continue
            uid_line = next((line for line in status.splitlines() if line.startswith("Uid:")), "")
            state = next((line for line in status.splitlines() if line.startswith("State:")), "")
            if uid_line.split()[1:2] == ["65534"] and state.split()[1:2] != ["Z"]:
                pids.append(int(name))
    return pids


PROBE = r"""
import json, os, socket
facts = {"uid": os.getuid(), "root": sorted(os.listdir("/")), "pid": os.getpid()}
facts["caps"] = [l.split()[1] for l in open("/proc/self/status") if l.startswith("CapEff")][0]
for path in ("/usr/probe", "/probe"):
    try:
        open(path, "w").write("x")
        facts["wrote " + path] = True
    except OSError:
        facts["wrote " + path] = False
open("/tmp/probe", "w").write("x")
facts["tmp writable"] = True
try:
    socket.create_connection(("127.0.0.1", 1), timeout=1)
    facts["loopback"] = "open"
except OSError as e:
    facts["loopback"] = type(e).__name__
facts["ifaces"] = sorted(n for _, n in socket.if_nameindex())
facts["env"] = {k: os.environ.get(k) for k in ("PYTHONHASHSEED", "TZ", "LC_ALL", "MONKEYS_TEST_SECRET")}
facts["hash"] = hash("monkeys")
print(json.dumps(facts))
"""


@pytest.mark.e2e
def test_sandbox_is_unprivileged_offline_and_read_only(backend: str) -> None:
    os.environ["MONKEYS_TEST_SECRET"] = "hunter2"
    sb = create_sandbox(backend)
    try:
        (run,) = sb.run(Job("stdio", PROBE, Limits(wall=10, cpu=10), inputs=("",)))
        assert run.exit_code == 0, run.stderr
        facts = json.loads(run.stdout)
        (again,) = sb.run(Job("stdio", PROBE, Limits(wall=10, cpu=10), inputs=("",)))
    finally:
        sb.close()
        del os.environ["MONKEYS_TEST_SECRET"]
    assert facts["uid"] == 65534
    assert facts["caps"] == "0000000000000000"
    assert not facts["wrote /usr/probe"] and not facts["wrote /probe"]
    assert facts["tmp writable"]
    assert facts["loopback"] in (
        "ConnectionRefusedError",
        "OSError",
    )  # its own empty loopback, nothing of ours
    assert facts["ifaces"] == ["lo"]
    assert "work" not in facts["root"] and "home" not in facts["root"] or backend == "docker"
    assert facts["env"] == {
        "PYTHONHASHSEED": "0",
        "TZ": "UTC",
        "LC_ALL": "C.UTF-8",
        "MONKEYS_TEST_SECRET": None,
    }
    assert json.loads(again.stdout)["hash"] == facts["hash"]  # pinned hash seed: same on every run
