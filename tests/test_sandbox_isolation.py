"""What a program sees inside each sandbox backend. The sandbox fixtures (`backend`, `sandbox_tools`,
`docker_engine`) live in conftest.py: they never install anything, and fail with the command to run
(`.ci/sandbox.sh setup`) when a sandbox is missing."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from monkeys.verifiers.sandbox import Job, Limits, create_sandbox

ROOT = Path(__file__).resolve().parent.parent
BACKENDS = ["bwrap", "docker"]


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
        (run,) = sb.run(Job(PROBE, Limits(wall=10, cpu=10)))
        assert run.exit_code == 0, run.stderr
        facts = json.loads(run.stdout)
        (again,) = sb.run(Job(PROBE, Limits(wall=10, cpu=10)))
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
