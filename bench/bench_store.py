"""The run store at 10^7 samples: append throughput, projected reads, resume planning, memory, bytes on disk.

Samples are synthetic (text of realistic length drawn from a small vocabulary), written the way the
sampler writes them: one atomic shard per flush, then compaction.

    python bench/bench_store.py [--samples 10000000] [--problems 1000]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.report import write_section  # noqa: E402
from monkeys.sampler.schedule import plan  # noqa: E402
from monkeys.store import Run  # noqa: E402
from monkeys.store.schema import SAMPLES  # noqa: E402

WORDS = np.array(
    [
        "the",
        "of",
        "and",
        "to",
        "a",
        "in",
        "is",
        "that",
        "for",
        "it",
        "as",
        "was",
        "with",
        "be",
        "by",
        "on",
        "not",
        "he",
        "this",
        "are",
        "or",
        "his",
        "we",
        "1",
        "2",
        "3",
        "4",
        "5",
        "6",
        "7",
        "8",
        "9",
        "0",
        "####",
        "=",
        "+",
        "-",
        "*",
        "/",
        "dollars",
        "eggs",
        "apples",
        "each",
        "total",
        "so",
        "she",
        "has",
    ]
)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def batch(rng: np.random.Generator, problems: int, per_problem: int, start: int, n: int) -> pa.Table:
    """`n` samples of each problem, sample indices start..start+n-1, ~60 words of text each."""
    pids = np.repeat(np.arange(problems), n)
    idx = np.tile(np.arange(start, start + n), problems)
    words = WORDS[rng.integers(0, len(WORDS), size=(len(pids), 60))]
    texts = [" ".join(w) for w in words]
    m = len(pids)
    return pa.Table.from_pydict(
        {
            "problem_id": pa.array(pids.astype(str)),
            "sample_index": idx,
            "text": pa.array(texts, pa.large_string()),
            "prompt_tokens": np.full(m, 900, np.int32),
            "completion_tokens": rng.integers(20, 512, m).astype(np.int32),
            "finish_reason": pa.array(np.where(rng.random(m) < 0.8, "stop", "length")),
            "cumulative_logprob": -rng.random(m) * 50,
            "seed": np.repeat(rng.integers(0, 2**52, problems), n),
            "cached_prompt_tokens": np.full(m, 896, np.int32),
        },
        schema=SAMPLES,
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=10_000_000)
    ap.add_argument("--problems", type=int, default=1000)
    ap.add_argument("--per-shard", type=int, default=100_000)
    args = ap.parse_args()
    per_problem = args.samples // args.problems
    step = max(1, args.per_shard // args.problems)
    rng = np.random.default_rng(0)
    root = Path(tempfile.mkdtemp(prefix="bench-store-"))
    try:
        run = Run.create(
            root / "run",
            {"k": per_problem},
            pd.DataFrame({"problem_id": [str(i) for i in range(args.problems)]}),
        )
        make = write = 0.0
        with run.writer("samples") as table:
            for start in range(0, per_problem, step):
                t0 = time.perf_counter()
                tb = batch(rng, args.problems, per_problem, start, min(step, per_problem - start))
                t1 = time.perf_counter()
                table.append(tb)
                write += time.perf_counter() - t1
                make += t1 - t0
            shards_before = len(table.shards())
            t0 = time.perf_counter()
            table.compact()
            compact = time.perf_counter() - t0
            shards_after = len(table.shards())
        rss_write = rss_mb()
        disk = sum(p.stat().st_size for p in (run.path / "samples").glob("*.parquet"))

        t0 = time.perf_counter()
        n_rows = run.num_samples()
        count_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        meta = run.samples(columns=["problem_id", "sample_index", "completion_tokens", "finish_reason"])
        proj_s = time.perf_counter() - t0
        assert len(meta) == n_rows == args.samples
        del meta
        t0 = time.perf_counter()
        stored = run.stored_indices()
        idx_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        todo = plan([str(i) for i in range(args.problems)], per_problem, 64, 0, stored)
        plan_s = time.perf_counter() - t0
        assert not todo
        rss_read = rss_mb()
        t0 = time.perf_counter()
        rows = sum(b.num_rows for b in run.table("samples").iter_batches(["text"]))
        stream_s = time.perf_counter() - t0
        assert rows == args.samples
    finally:
        shutil.rmtree(root, ignore_errors=True)

    n = args.samples
    lines = [
        f"{n:,} synthetic samples ({args.problems:,} problems × {per_problem:,}; ~60 words of text each), appended "
        f"in {n // (args.problems * step):,} atomic shards of {args.problems * step:,} rows, then compacted.",
        "",
        "| operation | seconds | rate |",
        "|---|---:|---:|",
        f"| append (write temp, fsync, rename), excluding making the rows | {write:.1f} | {n / write:,.0f} samples/s |",
        f"| compaction: {shards_before} shards → {shards_after} | {compact:.1f} | {n / compact:,.0f} samples/s |",
        f"| count rows (Parquet footers only) | {count_s:.3f} | |",
        f"| read 4 columns without text into pandas (`run.samples(columns=...)`) | {proj_s:.1f} | {n / proj_s:,.0f} rows/s |",
        f"| stored sample indices per problem (`run.stored_indices()`) | {idx_s:.1f} | {n / idx_s:,.0f} rows/s |",
        f"| resume plan over the full run (nothing missing) | {plan_s:.1f} | |",
        f"| stream the text column batch by batch | {stream_s:.1f} | {n / stream_s:,.0f} rows/s |",
        "",
        f"On disk: {disk / 2**20:,.0f} MiB, {disk / n:.0f} bytes per sample (zstd Parquet). Peak RSS: {rss_write:,.0f} MB "
        f"while writing, {rss_read:,.0f} MB after the projected reads (the text column is never loaded whole).",
    ]
    write_section("store", "## Run store at 10^7 samples (`bench/bench_store.py`)\n\n" + "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
