"""Engines beyond one process: the scheduler's own cost, the openai engine against a local vLLM server vs
the in-process engine on the same work, and two served replicas vs one.

    python bench/bench_engines.py [--units 100000] [--problems 2] [-k 32] [--max-tokens 32] [--only scheduler]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.report import write_section  # noqa: E402
from monkeys.records import Completion, Request, SamplingParams  # noqa: E402


class InstantEngine:
    """Answers every unit at once: what is left of the time is the scheduler's."""

    name = "instant"

    def describe(self) -> dict[str, Any]:
        return {"name": self.name}

    def generate(self, requests: Iterable[Request], params: SamplingParams) -> Iterator[Completion]:
        for r in requests:
            yield Completion(r, ("x",) * r.n, 1, (1,) * r.n, ("stop",) * r.n, (0.0,) * r.n)

    def close(self) -> None:
        pass


def bench_scheduler(units: int, replicas: int) -> float:
    from monkeys.sampler.scheduler import ReplicaPool

    reqs = [Request(str(i // 100), "q", (i % 100) * 4, 4, i) for i in range(units)]
    pool = ReplicaPool([InstantEngine() for _ in range(replicas)])
    t0 = time.perf_counter()
    got = sum(1 for _ in pool.generate(reqs, SamplingParams()))
    dt = time.perf_counter() - t0
    assert got == units
    return dt / units


def run_sample(tmp: Path, name: str, args: argparse.Namespace, make: Callable[[], Any]) -> float:
    from monkeys.sampler.loop import SampleConfig, sample
    from monkeys.tasks import TaskOptions

    config = SampleConfig(
        task="gsm8k",
        task_options=TaskOptions(data_dir=args.data_dir, limit=args.problems),
        model="embedded:smollm2-135m-instruct",
        k=args.k,
        chunk_size=min(args.k, 16),
        sampling=SamplingParams(max_tokens=args.max_tokens, stop=("\n\n", "\nQuestion:")),
        engine=name,
    )
    engine = make()  # started before the clock: we time sampling, not start-up
    report = sample(str(tmp / name), config, lambda: engine)
    return report.stored / report.seconds


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--units", type=int, default=100_000)
    ap.add_argument("--problems", type=int, default=2)
    ap.add_argument("-k", type=int, default=32)
    ap.add_argument("--max-tokens", type=int, default=32)
    ap.add_argument("--data-dir", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    ap.add_argument("--only", choices=["scheduler", "all"], default="all")
    args = ap.parse_args()
    lines = ["## Engines and replicas (`bench/bench_engines.py`)", ""]
    per_unit = {r: bench_scheduler(args.units, r) for r in (1, 4)}
    lines.append(
        f"- Scheduler overhead with an instant fake engine, {args.units:,} units: "
        + ", ".join(f"{v * 1e6:.1f} µs/unit with {r} replica(s)" for r, v in per_unit.items())
        + " (target < 1 ms/unit)."
    )
    print(lines[-1], flush=True)
    if args.only == "all":
        from monkeys.sampler.embedded import model_dir
        from monkeys.sampler.local_server import LocalServer
        from monkeys.sampler.openai_engine import OpenAIEngine
        from monkeys.sampler.scheduler import ReplicaPool
        from monkeys.sampler.vllm_engine import VLLMEngine

        with tempfile.TemporaryDirectory() as d:
            tmp = Path(d)
            work = f"{args.problems} GSM8K problems x k={args.k}, max_tokens {args.max_tokens}"
            local = run_sample(tmp, "vllm", args, lambda: VLLMEngine(max_model_len=8192))
            with LocalServer(str(model_dir()), None, tmp / "a.log") as a:
                served = run_sample(tmp, "openai", args, lambda: OpenAIEngine(base_url=a.base_url))
                with LocalServer(str(model_dir()), None, tmp / "b.log") as b:
                    two = run_sample(
                        tmp,
                        "openai2",
                        args,
                        lambda: ReplicaPool([OpenAIEngine(base_url=u.base_url) for u in (a, b)]),
                    )
        lines.append(
            f"- {work}: in-process vLLM {local:.2f} samples/s, openai engine against a local vLLM server "
            f"{served:.2f} samples/s: ratio {served / local:.2f} (target >= 0.8)."
        )
        lines.append(
            f"- Two served replicas vs one on the same work: {two:.2f} vs {served:.2f} samples/s, ratio "
            f"{two / served:.2f}. On 2 cores one vLLM engine already uses both cores for its matrix work, so a "
            "second replica competes for the same cores instead of adding compute; on a GPU cluster each "
            "replica brings its own GPUs and the ratio approaches the replica count."
        )
        print("\n".join(lines[-2:]), flush=True)
    write_section("engines", "\n".join(lines))


if __name__ == "__main__":
    main()
