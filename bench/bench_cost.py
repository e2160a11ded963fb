"""Benchmark `monkeys cost` and `monkeys report`: a synthetic run of 10^6 samples and the paper's 11 configs.

Run under the heavy lock: flock /tmp/monkeys-heavy.lock python bench/bench_cost.py [--screenshot PNG]
(about two minutes on 2 cores; writes the "cost" section of BENCHMARKS.md). Each command runs as its own
process, timed end to end (interpreter start and imports included), with its peak memory from
/usr/bin/time. Targets for the 10^6-sample run: under 10 s and a report under 10 MB.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import write_section  # noqa: E402
from monkeys.sampler.embedded import DEFAULT_MODEL  # noqa: E402
from monkeys.store import Run  # noqa: E402
from monkeys.store.schema import SAMPLES, VERDICTS  # noqa: E402

DATA = Path(os.environ.get("MONKEYS_DATA_DIR", "/work/shared/data")) / "monkey_business" / "outcomes.csv"
PROBLEMS, PER_PROBLEM = 1000, 1000
FILLER = "Let me think step by step. We add the numbers and then multiply the result by the rate. "


def synthetic_run(path: Path, seed: int) -> Path:
    """10^6 samples: 1000 problems x 1000, per-problem success rates from a Beta(0.3, 2), GSM8K-like texts of
    ~300 characters with real token counts, answers and verdicts, and a recorded sampling session."""
    rng = np.random.default_rng(seed)
    manifest = {
        "task": {"name": "gsm8k", "default_verifier": "gsm8k", "options": {}},
        "model": DEFAULT_MODEL,
        "sampling": {"temperature": 0.6, "top_p": 1.0, "max_tokens": 256, "stop": []},
        "seed": seed,
        "engine": {"name": "vllm", "version": "synthetic"},
        "sessions": [
            {
                "seconds": 3600.0,
                "samples": PROBLEMS * PER_PROBLEM,
                "device": {"kind": "gpu", "count": 1, "name": "H100"},
            }
        ],
    }
    problems = pd.DataFrame(
        {
            "problem_id": [str(i) for i in range(PROBLEMS)],
            "prompt": ["Q?"] * PROBLEMS,
            "reference": ["7"] * PROBLEMS,
        }
    )
    run = Run.create(path, manifest, problems)
    p = rng.beta(0.3, 2.0, PROBLEMS)
    prompt = rng.integers(300, 900, PROBLEMS)
    step = 100
    with run.writer("samples") as s, run.writer("verdicts") as v:
        for start in range(0, PROBLEMS, step):
            ids = np.repeat(np.arange(start, start + step), PER_PROBLEM)
            idx = np.tile(np.arange(PER_PROBLEM), step)
            ok = rng.random(len(ids)) < p[ids]
            wrong = rng.integers(0, 20, len(ids))
            answer = np.where(ok, "7", wrong.astype(str))
            pid = ids.astype(str)
            tokens = rng.integers(40, 256, len(ids))
            text = [FILLER[: 60 + (t % 200)] + f" #### {a}" for t, a in zip(tokens, answer, strict=True)]
            s.append(
                pa.table(
                    {
                        "problem_id": pid,
                        "sample_index": idx,
                        "text": text,
                        "prompt_tokens": prompt[ids].astype(np.int32),
                        "completion_tokens": tokens.astype(np.int32),
                        "finish_reason": ["stop"] * len(ids),
                        "cumulative_logprob": -rng.random(len(ids)) * 50,
                        "seed": idx,
                        "cached_prompt_tokens": pa.nulls(len(ids), pa.int32()),
                    },
                    schema=SAMPLES,
                )
            )
            v.append(
                pa.table(
                    {
                        "problem_id": pid,
                        "sample_index": idx,
                        "verifier": ["gsm8k"] * len(ids),
                        "verifier_version": ["2"] * len(ids),
                        "verdict": np.where(ok, "pass", "fail"),
                        "answer": answer,
                        "detail": np.where(ok, "correct", "wrong answer"),
                        "seconds": np.full(len(ids), 1e-5),
                    },
                    schema=VERDICTS,
                )
            )
        s.compact()
        v.compact()
    return path


def timed(args: list[str]) -> tuple[float, float, str]:
    """Seconds and peak resident MB of one `monkeys` command in its own process."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    t = time.perf_counter()
    res = subprocess.run(
        ["/usr/bin/time", "-f", "%M", sys.executable, "-m", "monkeys.cli", *args],
        capture_output=True,
        text=True,
        env=env,
    )
    seconds = time.perf_counter() - t
    if res.returncode != 0:
        raise SystemExit(f"monkeys {' '.join(args)} failed:\n{res.stderr}")
    peak_mb = int(res.stderr.strip().splitlines()[-1]) / 1024
    return seconds, peak_mb, res.stdout


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--screenshot", type=Path, help="also open the 10^6-sample report in Chromium and save a PNG"
    )
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        t = time.perf_counter()
        a = synthetic_run(d / "big-a", 1)
        b = synthetic_run(d / "big-b", 2)
        print(f"made two synthetic runs of 10^6 samples in {time.perf_counter() - t:.1f}s")
        prices = d / "prices.yaml"
        prices.write_text(f"{DEFAULT_MODEL}: {{input: 0.05, output: 0.1, cached_input: 0.01}}\n")
        big = ["--run", str(a), "--prices", str(prices)]
        cases = [
            (
                "cost, one run of 10^6 samples",
                ["cost", *big, "--target-coverage", "0.9", "--json", str(d / "c.json")],
                None,
            ),
            (
                "report, one run of 10^6 samples",
                ["report", *big, "--target-coverage", "0.9", "--out", str(d / "r1.html")],
                d / "r1.html",
            ),
            (
                "cost, two runs of 10^6 samples",
                ["cost", *big, "--run", str(b), "--target-coverage", "0.9"],
                None,
            ),
            (
                "report, two runs of 10^6 samples",
                ["report", *big, "--run", str(b), "--out", str(d / "r2.html")],
                d / "r2.html",
            ),
        ]
        if DATA.is_file():
            # configs are comparable when they share a task and problem ids (the Llama and Pythia MATH
            # configs number their problems differently): one comparison per such group, 11 configs in all
            table = pd.read_csv(DATA, usecols=["config", "task", "problem"])
            ids = table.groupby("config", sort=False)["problem"].apply(lambda p: tuple(sorted(p)))
            groups: dict[tuple, list[str]] = {}
            for config, key in ids.items():
                task = table.loc[table["config"] == config, "task"].iloc[0]
                groups.setdefault((task, key), []).append(config)
            for (task, _), members in groups.items():
                configs = [x for c in members for x in ("--config", c)]
                base = ["--outcomes", str(DATA), *configs]
                label = (
                    f"{len(members)} {task} configs of the released outcomes ({members[0].split('_')[1]}...)"
                )
                cases.append((f"cost, {label}", ["cost", *base, "--target-coverage", "0.9"], None))
                cases.append(
                    (
                        f"report, {label}",
                        ["report", *base, "--out", str(d / f"o-{members[0]}.html")],
                        d / f"o-{members[0]}.html",
                    )
                )
        for name, cmd, out in cases:
            seconds, peak, _ = timed(cmd)
            size = out.stat().st_size / 1e6 if out else None
            rows.append((name, seconds, peak, size))
            print(f"{name}: {seconds:.2f}s, peak {peak:.0f} MB" + (f", report {size:.2f} MB" if size else ""))
        if args.screenshot:
            from tests.chromium_cdp import Chromium

            with Chromium() as browser:
                log = browser.open(d / "r1.html")
                browser.screenshot(args.screenshot)
            print(
                f"chromium: loaded in {log.seconds_to_load:.2f}s, {len(log.errors)} errors, {len(log.requests)} requests"
            )
            rows.append(("chromium load of the 10^6-sample report", log.seconds_to_load, None, None))
    body = [
        "## cost and report (`monkeys cost`, `monkeys report`)",
        "",
        "Each command in its own process, end to end (start-up and imports included), 200 bootstrap resamples.",
        "Synthetic runs: 1000 problems x 1000 samples, success rates from Beta(0.3, 2), ~300-character texts with",
        "token counts, a price file and a recorded session; cost axes samples, FLOPs, GPU-seconds, dollars.",
        "",
        "| case | seconds | peak MB | report MB |",
        "|---|---:|---:|---:|",
    ]
    for name, seconds, peak, size in rows:
        body.append(
            f"| {name} | {seconds:.2f} | {'-' if peak is None else f'{peak:.0f}'} | {'-' if size is None else f'{size:.2f}'} |"
        )
    body += ["", "Targets for one run of 10^6 samples: under 10 s and a report under 10 MB."]
    write_section("cost", "\n".join(body))


if __name__ == "__main__":
    main()
