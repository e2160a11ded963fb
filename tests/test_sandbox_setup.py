"""`.ci/sandbox.sh teardown` stops only a Docker engine its own set-up started."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
SCRIPT = Path(__file__).resolve().parents[1] / ".ci" / "sandbox.sh"


def answers(env: dict[str, str]) -> bool:
    host = env.get("MONKEYS_DOCKER_HOST", "unix:///run/monkeys-docker.sock")
    return subprocess.run(["docker", "-H", host, "version"], capture_output=True).returncode == 0


def test_teardown_leaves_an_engine_it_did_not_start_running() -> None:
    env = {**os.environ, "MONKEYS_SANDBOX_OWNER": "a-test-that-started-nothing"}
    if not answers(env):
        pytest.fail("no Docker engine answers; run `bash .ci/sandbox.sh setup` first")
    up = subprocess.run(["bash", str(SCRIPT), "setup"], capture_output=True, text=True, env=env, timeout=600)
    assert up.returncode == 0 and "already answers" in up.stdout, up.stdout + up.stderr
    down = subprocess.run(
        ["bash", str(SCRIPT), "teardown"], capture_output=True, text=True, env=env, timeout=120
    )
    assert down.returncode == 0 and "leaving dockerd running" in down.stdout, down.stdout + down.stderr
    assert answers(env)
