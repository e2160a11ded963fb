"""Is a sandbox backend usable here? Asked once before any program runs, so that a missing sandbox reads
as one line saying what to install or start, not as a verifier failing its canaries."""

from __future__ import annotations

import os
import shutil
import subprocess

from monkeys.errors import MonkeysError

PROBE_SECONDS = 20.0


def check_bwrap() -> None:
    if shutil.which("bwrap") is None:
        raise MonkeysError(
            "the bwrap sandbox needs bubblewrap, which is not installed: run `apt-get install bubblewrap` "
            "(or choose --sandbox docker)"
        )
    try:
        proc = subprocess.run(
            ["bwrap", "--unshare-all", "--die-with-parent", "--ro-bind", "/", "/", "true"],
            capture_output=True,
            text=True,
            timeout=PROBE_SECONDS,
        )
    except subprocess.TimeoutExpired:
        raise MonkeysError(
            f"bwrap did not start a sandbox within {PROBE_SECONDS:.0f}s; check the host's load"
        ) from None
    if proc.returncode != 0:
        said = (proc.stderr.strip().splitlines() or ["no message"])[-1][:200]
        raise MonkeysError(
            f"bubblewrap cannot make a sandbox here ({said}): it needs unprivileged user namespaces "
            "(sysctl kernel.unprivileged_userns_clone=1, or run as root), or choose --sandbox docker"
        )


def check_docker() -> None:
    from monkeys.verifiers.sandbox.docker import DEFAULT_IMAGE, client

    c = client()  # one line when the SDK is missing or no engine answers
    image = os.environ.get("MONKEYS_SANDBOX_IMAGE", DEFAULT_IMAGE)
    try:
        c.images.get(image)
    except Exception:
        raise MonkeysError(
            f"the docker sandbox image {image} is missing; build it with `bash .ci/sandbox.sh setup`"
        ) from None


CHECKS = {"bwrap": check_bwrap, "docker": check_docker}


def preflight(backend: str) -> None:
    """Raise one MonkeysError naming the fix when `backend` cannot run programs here; `none` needs nothing."""
    check = CHECKS.get(backend)
    if check is not None:
        check()
