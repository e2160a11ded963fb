"""The docker backend removes its containers: on close, at exit, and after its owner was killed with -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from monkeys.verifiers.sandbox import Job, Limits
from monkeys.verifiers.sandbox.docker import LABEL, DockerSandbox, client

ROOT = Path(__file__).resolve().parent.parent
OWNER_SCRIPT = """
import sys, time
from monkeys.verifiers.sandbox import Job, Limits
from monkeys.verifiers.sandbox.docker import DockerSandbox
sb = DockerSandbox()
sb.run(Job("print(1)", Limits()))
print(sb.container.id, flush=True)
sb.run(Job("while True: pass", Limits(wall=600, cpu=600)))
"""


def sandbox_containers() -> list[str]:
    return [c["Id"] for c in client().api.containers(all=True, filters={"label": LABEL})]


@pytest.mark.e2e
def test_close_removes_the_container(docker_engine) -> None:  # noqa: F811
    sb = DockerSandbox()
    (r,) = sb.run(Job("print(6 * 7)", Limits()))
    cid = sb.container.id
    assert r.stdout == "42\n" and cid in sandbox_containers()
    sb.close()
    assert cid not in sandbox_containers()


@pytest.mark.e2e
def test_containers_of_a_killed_owner_are_removed_on_next_start(docker_engine) -> None:  # noqa: F811
    owner = subprocess.Popen(
        [sys.executable, "-c", OWNER_SCRIPT],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )
    assert owner.stdout is not None
    cid = owner.stdout.readline().strip()
    assert cid in sandbox_containers()
    os.kill(owner.pid, signal.SIGKILL)  # no atexit, no finally: the container is orphaned
    owner.wait()
    time.sleep(0.2)
    assert cid in sandbox_containers()
    fresh = DockerSandbox()  # a new start sweeps containers whose owner is dead
    try:
        assert cid not in sandbox_containers()
    finally:
        fresh.close()


@pytest.mark.e2e
def test_containers_are_removed_when_the_owner_exits_normally(docker_engine) -> None:  # noqa: F811
    script = OWNER_SCRIPT.rsplit("sb.run(", 1)[0]  # make the container, print its id, exit without close()
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env=dict(os.environ),
    )
    cid = out.stdout.strip()
    assert len(cid) == 64
    assert cid not in sandbox_containers()  # the atexit hook removed it
