"""Benchmark the analysis: pass@k speed, curves and fits for the paper's 11 configs, extrapolation back-tests.

Run: python bench/bench_analysis.py   (a few minutes on 2 cores; writes the "analysis" section of BENCHMARKS.md)
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.report import write_section  # noqa: E402
from monkeys.analysis.coverage import coverage  # noqa: E402
from monkeys.analysis.extrapolate import backtest  # noqa: E402
from monkeys.analysis.fits import fit_all  # noqa: E402
from monkeys.analysis.outcomes import hypergeometric_subsample, read_outcomes  # noqa: E402
from monkeys.analysis.report import analyse  # noqa: E402

DATA = Path(os.environ.get("MONKEYS_DATA_DIR", "/work/shared/data")) / "monkey_business" / "outcomes.csv"
METHODS = ("power_law", "neg_log_power_law", "distributional", "beta_binomial", "scaled_beta")
REPS = 5


def best_of(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def chen_estimator(n: int, c: int, k: int) -> float:
    """The reference per-problem estimator of Chen et al. (2021), as in OpenAI's human-eval."""
    if n - c < k:
        return 1.0
    return 1.0 - float(np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


def bench_pass_at_k() -> list[str]:
    rng = np.random.default_rng(0)
    ks = np.arange(1, 1001)
    n_same = np.full(10_000, 1000)
    c_same = rng.binomial(1000, rng.beta(0.3, 2.0, 10_000))
    n_mixed = 1000 + rng.integers(0, 5000, 10_000)
    c_mixed = rng.binomial(n_mixed, rng.beta(0.3, 2.0, 10_000))
    t_same = best_of(lambda: coverage(n_same, c_same, ks))
    t_mixed = best_of(lambda: coverage(n_mixed, c_mixed, ks))
    # the reference loop on a slice, side by side, scaled per cell
    sl = 20
    t_ref = best_of(
        lambda: [
            chen_estimator(int(a), int(b), int(k))
            for a, b in zip(n_mixed[:sl], c_mixed[:sl], strict=True)
            for k in ks
        ],
        1,
    )
    ref_full = t_ref * (10_000 / sl)
    ours = coverage(n_mixed[:sl], c_mixed[:sl], ks)
    ref = np.mean(
        [
            [chen_estimator(int(a), int(b), int(k)) for k in ks]
            for a, b in zip(n_mixed[:sl], c_mixed[:sl], strict=True)
        ],
        axis=0,
    )
    agree = float(np.max(np.abs(ours - ref)))
    print(
        f"pass@k 10^4 x 10^3: shared n {t_same:.3f}s, all-distinct (n, c) {t_mixed:.3f}s, reference loop ~{ref_full:.0f}s"
    )
    return [
        "### pass@k: 10^4 problems x every k in 1..1000",
        "",
        "| case | seconds | cells/s |",
        "|---|---|---|",
        f"| every problem n = 1000 (rows with equal (n, c) shared) | {t_same:.3f} | {1e7 / t_same:.2e} |",
        f"| every problem a different n in 1000..6000 (worst case) | {t_mixed:.3f} | {1e7 / t_mixed:.2e} |",
        f"| reference per-(problem, k) loop of Chen et al., timed on {sl} problems and scaled | {ref_full:.0f} | {1e7 / ref_full:.2e} |",
        "",
        f"Worst case is {ref_full / t_mixed:.0f}x the reference loop (measured side by side); the two agree to "
        f"{agree:.1e} on the timed slice.",
        "",
    ]


def bench_configs(configs: dict) -> list[str]:
    rng = np.random.default_rng(0)
    t = time.perf_counter()
    for counts in configs.values():
        analyse(counts, 200, rng)
    t_all = time.perf_counter() - t
    t = time.perf_counter()
    for counts in configs.values():
        fit_all(counts, 0, rng, intervals=False)
    t_fits = time.perf_counter() - t
    print(f"11 configs: everything {t_all:.1f}s, point fits only {t_fits:.1f}s")
    return [
        "### Curves and fits for the 11 configs of the outcomes table (128 problems x 10,000 samples each)",
        "",
        "| what | seconds (all 11) |",
        "|---|---|",
        f"| coverage curve + 200-resample bootstrap bands + 4 laws with intervals + fit errors + curve table | {t_all:.1f} |",
        f"| the 4 laws' point fits only | {t_fits:.1f} |",
        "",
    ]


def bench_backtest(configs: dict) -> list[str]:
    rng = np.random.default_rng(1)
    errs: dict[str, list[float]] = {m: [] for m in METHODS}
    inside: dict[str, list[float]] = {m: [] for m in METHODS}
    flat = []
    rows = []
    for name, counts in configs.items():
        truth = float(coverage(counts.n, counts.c, [10_000])[0])
        bt = backtest(counts, 100, rng, reps=REPS)
        for m in METHODS:
            errs[m].append(bt["methods"][m]["abs_err_mean"])
        flat.append(truth - float(coverage(counts.n, counts.c, [100])[0]))
        # are the 95% intervals honest? fit once with intervals on one 100-sample subsample
        fs = fit_all(hypergeometric_subsample(counts, 100, rng), 200, rng)
        for m, fit in fs.methods().items():
            lo, hi = fit.predict_interval([10_000])
            inside[m].append(float(lo[0] <= truth <= hi[0]) if np.isfinite(lo[0]) else np.nan)
        rows.append(
            f"| {name} | {truth:.3f} | "
            + " | ".join(f"{errs[m][-1]:.3f}" for m in METHODS)
            + f" | {flat[-1]:.3f} |"
        )
    mean = {m: float(np.mean(v)) for m, v in errs.items()}
    print(
        "back-test mean |error| at 10,000 from 100:",
        {m: round(v, 4) for m, v in mean.items()},
        "flat",
        round(float(np.mean(flat)), 4),
    )
    head = " | ".join(METHODS)
    return [
        "### Back-test: coverage at k = 10,000 predicted from 100 samples per problem",
        "",
        f"Each config's counts are subsampled to 100 of 10,000 samples per problem (hypergeometric draws), every law is "
        f"fitted to the subsample and predicts coverage at 10,000; the truth is the coverage measured on all 10,000. "
        f"Mean absolute error over {REPS} subsamples per config. `flat` = assuming no growth after k = 100. "
        f"`distributional` is the plain or scaled Beta chosen by a likelihood-ratio test.",
        "",
        f"| config | truth | {head} | flat |",
        "|---|---|" + "---|" * (len(METHODS) + 1),
        *rows,
        "| **mean over configs** | | "
        + " | ".join(f"**{mean[m]:.3f}**" for m in METHODS)
        + f" | {np.mean(flat):.3f} |",
        "| share of configs whose truth is inside the 95% interval (one subsample each) | | "
        + " | ".join(f"{np.nanmean(inside[m]):.2f}" for m in METHODS)
        + " | |",
        "",
    ]


def bench_selection() -> list[str]:
    from monkeys.analysis.selection import (
        Votes,
        best_of_k_exact_problem,
        choose_ratio_table,
        majority_all_subsets,
        subsets_protocol,
    )

    rng = np.random.default_rng(2)
    votes = []
    for i in range(128):
        groups = int(rng.integers(3, 40))
        labels = rng.choice(groups, size=1000, p=rng.dirichlet(np.full(groups, 0.5)))
        votes.append(Votes(str(i), labels, labels == 0, {"s": rng.normal(size=1000)}))
    ks = np.arange(1, 1001)
    t = time.perf_counter()
    majority_all_subsets(votes, 1000, rng)
    t_exact = time.perf_counter() - t
    t = time.perf_counter()
    subsets_protocol(votes, 1000, "majority", None, 100, rng)
    t_sub = time.perf_counter() - t
    t = time.perf_counter()
    table = choose_ratio_table(1000, ks)
    for v in votes:
        best_of_k_exact_problem(v.scores["s"], v.correct, ks, table)
    t_best = time.perf_counter() - t
    print(
        f"selection 128 x 1000: exact majority {t_exact:.1f}s, 100 subsets {t_sub:.1f}s, exact best-of-k {t_best:.2f}s"
    )
    return [
        "### Selection methods: 128 problems x 1000 samples, 3-40 answer groups each, every k in 1..1000",
        "",
        "| what | seconds |",
        "|---|---|",
        f"| majority vote, exact over all subsets (generating function) | {t_exact:.1f} |",
        f"| majority vote, the paper's protocol (100 random subsets per k) | {t_sub:.1f} |",
        f"| best-of-k by score, exact over all subsets | {t_best:.2f} |",
        "",
        "Grouping answers by the verifier's equivalence is not included (it calls the verifier's `same_answer`).",
        "",
    ]


def main() -> None:
    configs = read_outcomes(DATA)
    body = ["## analysis (`monkeys fit-scaling`, `monkeys select`)", ""]
    body += bench_pass_at_k()
    body += bench_configs(configs)
    body += bench_backtest(configs)
    body += bench_selection()
    write_section("analysis", "\n".join(body))


if __name__ == "__main__":
    main()
