"""Sampling on a local Ray cluster started by the test: 2 replicas of the embedded model as Ray actors,
one killed with `ray.kill` mid-run; the run completes with exactly k unique samples per problem.

Nothing waits on a clock: the pool is ready when both actors have answered, the kill happens on the first
stored request, and the run ends when every unit is stored. The cluster is made to depend only on what
the test does, not on other jobs on a shared machine: it is stopped by killing its own process group, never
with `ray stop --force` (which kills every Ray cluster on the machine, and so another test's replicas while
they start); it takes no fixed default port another cluster may hold; Ray's memory monitor, which kills
workers when the whole machine nears 95% memory, is off; and vLLM's cache is the user's, as in use.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from monkeys.records import SamplingParams
from monkeys.sampler.local_server import free_port
from monkeys.sampler.loop import SampleConfig, sample
from monkeys.tasks import TaskOptions

pytestmark = pytest.mark.e2e

K = 8
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    home = tmp_path / "home"  # Ray writes ~/.ray: keep it inside the test
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "PYTHONPATH": str(ROOT), "MONKEYS_CPU_KV_CACHE_GIB": "0.5"}
    env.setdefault("MONKEYS_CACHE_DIR", str(Path.home() / ".cache" / "monkeys"))  # the converted model
    env.setdefault("VLLM_CACHE_ROOT", str(Path.home() / ".cache" / "vllm"))
    env["RAY_memory_monitor_refresh_ms"] = "0"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("MONKEYS_CACHE_DIR", env["MONKEYS_CACHE_DIR"])
    port = free_port()
    ray = [sys.executable, "-m", "ray.scripts.scripts"]
    start = [*ray, "start", "--head", f"--port={port}", "--num-cpus=2", "--include-dashboard=false"]
    # Ports Ray would otherwise take at fixed defaults (52365, 10001), shared with any other cluster here.
    start += [f"--dashboard-agent-listen-port={free_port()}", f"--ray-client-server-port={free_port()}"]
    # A short temp dir: Ray's AF_UNIX socket paths below it must stay under 107 bytes.
    temp = tempfile.mkdtemp(prefix="mray-", dir="/tmp")
    # `ray start` returns once the head node is up; its daemons stay in its process group, which the
    # test kills to stop this cluster alone (`ray stop --force` kills every Ray process on the machine,
    # other tests' clusters included: a replica of one starting while another test tears down dies).
    log = Path(temp) / "ray-start.log"
    with open(log, "wb") as out:
        head = subprocess.Popen(
            [*start, f"--temp-dir={temp}"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        head.wait()
    try:
        assert head.returncode == 0, log.read_text()[-3000:]
        yield f"127.0.0.1:{port}"
    finally:
        import ray as ray_mod

        ray_mod.shutdown()
        with contextlib.suppress(ProcessLookupError):  # the GCS, raylet and agents; workers exit with them
            os.killpg(head.pid, signal.SIGKILL)
        shutil.rmtree(temp, ignore_errors=True)


def test_ray_replicas_one_killed_mid_run_complete_with_exactly_k(
    cluster: str, tmp_path: Path, data_dir: str
) -> None:
    import ray

    from monkeys.sampler.ray_engine import ray_pool

    config = SampleConfig(
        task="gsm8k",
        task_options=TaskOptions(data_dir=data_dir, limit=2),
        model="embedded:smollm2-135m-instruct",
        k=K,
        chunk_size=4,
        sampling=SamplingParams(max_tokens=16, stop=("\n\n", "\nQuestion:")),
        engine="vllm",
    )
    killed: list[str] = []
    pool = ray_pool(cluster, 2, None, batch_samples=4)
    first = pool.replicas[0].engine

    def kill_one(samples: int, tokens: int) -> None:
        if not killed:
            ray.kill(first.actor)
            killed.append(first.actor_name)

    report = sample(str(tmp_path / "r"), config, lambda: pool, on_progress=kill_one)
    df = report.run.samples()
    assert killed and not df.duplicated(["problem_id", "sample_index"]).any()
    assert df.groupby("problem_id")["sample_index"].apply(sorted).tolist() == [list(range(K))] * 2
    assert report.run.manifest["engine"]["settings"]["replicas"] == 2
    assert killed[0].startswith("monkeys-replica-0-")  # named per driver job
