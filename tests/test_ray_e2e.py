"""Sampling on a local Ray cluster started by the test: 2 replicas of the embedded model as Ray actors,
one killed with `ray.kill` mid-run; the run completes with exactly k unique samples per problem.

Nothing waits on a clock: the pool is ready when both actors have answered, the kill happens on the first
stored request, and the run ends when every unit is stored. The cluster is made to depend only on what
the test does: vLLM's compile cache is the user's (warm after a first run, one root per replica slot, see
ray_engine.py) and Ray's memory monitor, which kills workers when the whole machine nears 95% memory, is
off: on a shared machine other jobs' memory would otherwise decide whether our actors live.
"""

from __future__ import annotations

import os
import shutil
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
    env.setdefault("VLLM_CACHE_ROOT", str(Path.home() / ".cache" / "vllm"))  # compiled graphs, kept warm
    env["RAY_memory_monitor_refresh_ms"] = "0"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("MONKEYS_CACHE_DIR", env["MONKEYS_CACHE_DIR"])
    port = free_port()
    ray = [sys.executable, "-m", "ray.scripts.scripts"]
    start = [*ray, "start", "--head", f"--port={port}", "--num-cpus=2", "--include-dashboard=false"]
    # A short temp dir: Ray's AF_UNIX socket paths below it must stay under 107 bytes.
    temp = tempfile.mkdtemp(prefix="mray-", dir="/tmp")
    subprocess.run([*start, f"--temp-dir={temp}"], env=env, check=True, capture_output=True)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        import ray as ray_mod

        ray_mod.shutdown()
        subprocess.run([*ray, "stop", "--force"], env=env, capture_output=True)
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
