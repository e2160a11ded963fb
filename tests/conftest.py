"""Shared test fixtures: where the task data lives (never copied into the repo), and the sandboxes.

Sandbox fixtures never install anything. They apply to e2e tests only (a unit test that happens to sit in
a module using them runs without a sandbox), and fail with the command to run when a sandbox is missing.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SETUP = (
    "bash .ci/sandbox.sh setup (as root: installs bubblewrap and docker, starts dockerd, builds the image)"
)


@pytest.fixture(scope="session")
def data_dir() -> str:
    path = os.environ.get("MONKEYS_DATA_DIR") or str(DEFAULT_DATA)
    if not Path(path, "gsm8k", "test.jsonl").is_file():
        pytest.fail(f"task data not found at {path}; set MONKEYS_DATA_DIR to the shared data folder")
    return path


def docker_ready() -> bool:
    """A Docker engine answers where the docker backend looks, and holds the sandbox image."""
    try:
        import docker

        from monkeys.verifiers.sandbox.docker import DEFAULT_IMAGE, docker_host

        c = docker.DockerClient(base_url=docker_host(), timeout=10)
        c.images.get(os.environ.get("MONKEYS_SANDBOX_IMAGE", DEFAULT_IMAGE))
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def bwrap_ready() -> None:
    if shutil.which("bwrap") is None:
        pytest.fail(f"bubblewrap is missing; run {SETUP}")


@pytest.fixture(scope="session")
def docker_ready_engine() -> None:
    if not docker_ready():
        pytest.fail(f"no Docker engine with the sandbox image; run {SETUP}")


@pytest.fixture()
def sandbox_tools(request: pytest.FixtureRequest) -> None:
    """bubblewrap on PATH, checked for e2e tests only."""
    if request.node.get_closest_marker("e2e") is not None:
        request.getfixturevalue("bwrap_ready")


@pytest.fixture()
def docker_engine(request: pytest.FixtureRequest) -> Iterator[None]:
    """A Docker engine with the sandbox image, checked for e2e tests only."""
    if request.node.get_closest_marker("e2e") is not None:
        request.getfixturevalue("docker_ready_engine")
    yield


@pytest.fixture(scope="module", params=["bwrap", "docker"])
def backend(request: pytest.FixtureRequest) -> str:
    """Each sandbox backend in turn (for modules whose tests are all e2e)."""
    request.getfixturevalue("bwrap_ready")
    if request.param == "docker":
        request.getfixturevalue("docker_ready_engine")
    return request.param
