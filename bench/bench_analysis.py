"""Benchmark the analysis: pass@k speed, curves and fits for the paper's 11 configs, extrapolation back-tests.

Run: python bench/bench_analysis.py   (a few minutes on 2 cores; writes the "analysis" section of BENCHMARKS.md)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.report import write_section  # noqa: E402
from monkeys.analysis.coverage import coverage  # noqa: E402
from monkeys.analysis.extrapolate import extrapolate  # noqa: E402
from monkeys.analysis.fits import fit_all  # noqa: E402
from monkeys.analysis.outcomes import Counts, hypergeometric_subsample, read_outcomes  # noqa: E402
from monkeys.analysis.report import config_rng, one_blas_thread  # noqa: E402

DATA = Path(os.environ.get("MONKEYS_DATA_DIR", "/work/shared/data")) / "monkey_business" / "outcomes.csv"
METHODS = ("power_law", "neg_log_power_law", "distributional", "beta_binomial", "scaled_beta")
REPS = 12  # subsamples per config in the back-test
BACKTEST_SEED = 7  # not the seed the method was explored with (101), so these subsamples are fresh


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


BASELINE = "6488591"  # main before issue 10: today's fit-scaling, extracted with git archive and run as is
PREVIOUS = "9f8c266"  # before the speed work of items 12 and 14 (the numbers must not move)


def _cli(root: Path, *args: str) -> tuple[float, float]:
    """Wall and CPU seconds of one `monkeys fit-scaling` process run from `root` (process start included)."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    t = time.perf_counter()
    before = os.times()
    subprocess.run(
        [sys.executable, "-c", "from monkeys.cli import main; main()", "fit-scaling", *args],
        cwd=root,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    after = os.times()
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return time.perf_counter() - t, cpu


def _differences(old: dict, new: dict) -> dict[str, float]:
    """Largest differences between two fit-scaling JSON documents' numbers."""

    def rel(method: str, params: tuple[str, ...]) -> float:
        return max(
            abs(old[c]["fits"][method][p] / new[c]["fits"][method][p] - 1)
            for c in old
            for p in params
            if new[c]["fits"][method].get(p)
        )

    return {
        "coverage (every report k)": max(
            abs(old[c]["coverage"][k] - new[c]["coverage"][k]) for c in old for k in old[c]["coverage"]
        ),
        "power law a, b": max(
            abs(old[c]["fits"]["power_law"][p] - new[c]["fits"]["power_law"][p])
            for c in old
            for p in ("a", "b")
        ),
        "-log c law A, B (relative)": rel("neg_log_power_law", ("A", "B")),
        "beta-binomial alpha, beta (relative)": rel("beta_binomial", ("alpha", "beta")),
        "scaled Beta alpha, beta, scale (relative)": rel("scaled_beta", ("alpha", "beta", "scale")),
    }


def bench_configs(configs: dict) -> list[str]:
    """fit-scaling for the 11 configs (curves, 200-resample bands, every fit, JSON and CSV), today's code
    against the new, alternating so that both see the same machine; and how their numbers compare."""
    root = Path(__file__).resolve().parent.parent
    args = ("--outcomes", str(DATA))
    with tempfile.TemporaryDirectory() as tmp:
        trees = {}
        for label, commit in (("today", BASELINE), ("previous", PREVIOUS)):
            trees[label] = Path(tmp) / label
            trees[label].mkdir()
            archive = subprocess.run(
                ["git", "-C", str(root), "archive", commit, "monkeys"], capture_output=True, check=True
            )
            subprocess.run(["tar", "-x", "-C", str(trees[label])], input=archive.stdout, check=True)
        load_before = os.getloadavg()[0]
        runs: dict[str, list[tuple[float, float]]] = {"today": [], "new": []}
        for _ in range(3):
            for label, where in (("today", trees["today"]), ("new", root)):
                out = ("--json", str(Path(tmp) / f"{label}.json"), "--csv", str(Path(tmp) / f"{label}.csv"))
                runs[label].append(_cli(where, *args, *out))
        load_after = os.getloadavg()[0]
        _cli(trees["previous"], *args, "--json", str(Path(tmp) / "previous.json"))  # numbers only, not timed
        docs = {
            k: json.loads((Path(tmp) / f"{k}.json").read_text())["configs"]
            for k in ("today", "previous", "new")
        }
    diffs = {label: _differences(docs[label], docs["new"]) for label in ("today", "previous")}
    best = {k: min(v) for k, v in runs.items()}
    cpu = {k: min(c for _, c in v) for k, v in runs.items()}
    print(
        f"fit-scaling 11 configs: today {best['today'][0]:.2f}s, new {best['new'][0]:.2f}s wall; "
        f"cpu {cpu['today']:.2f}s vs {cpu['new']:.2f}s; load {load_before:.1f} -> {load_after:.1f}"
    )
    rows = [f"| {k} | {v:.2g} | {diffs['previous'][k]:.2g} |" for k, v in diffs["today"].items()]
    return [
        "### fit-scaling on the 11 configs of the outcomes table (128 problems x 10,000 samples each)",
        "",
        "`monkeys fit-scaling --outcomes outcomes.csv --json --csv` (coverage curves, 200-resample bootstrap bands, "
        f"all four laws with intervals and fit errors), as a fresh process each time (start and imports included), "
        f"today's code (commit {BASELINE}, extracted with `git archive`) and the new one alternating, best of 3 each:",
        "",
        "| code | wall seconds | CPU seconds |",
        "|---|---|---|",
        f"| today ({BASELINE}) | {best['today'][0]:.2f} | {cpu['today']:.2f} |",
        f"| new | {best['new'][0]:.2f} | {cpu['new']:.2f} |",
        f"| speed-up | {best['today'][0] / best['new'][0]:.1f}x | {cpu['today'] / cpu['new']:.1f}x |",
        "",
        f"Load average (1 min) while measuring: {load_before:.1f} before, {load_after:.1f} after, on {os.cpu_count()} "
        "cores (other work shares this machine; CPU seconds, user + system of the child process, are the steadier "
        "figure).",
        "",
        f"Largest difference between the new code's numbers and those of today's code ({BASELINE}; the -log c law "
        "changed on purpose, issue 10 item 13, and bootstrap bands differ by their random streams, now seeded per "
        f"config) and of the code before the speed work ({PREVIOUS}):",
        "",
        f"| quantity | against {BASELINE} | against {PREVIOUS} |",
        "|---|---|---|",
        *rows,
        "",
        "The scaled Beta moved against today's code because its likelihood is now integrated more accurately "
        "(Simpson's rule plus exact Beta-CDF masses near the scale; coverage error about 3e-8 against adaptive "
        "quadrature, against up to 2e-4 before). Against the code before the speed work, the beta-binomial "
        "moves by its optimiser's tolerance (Newton to convergence in place of L-BFGS-B) and the scaled Beta, "
        "which starts from it, by as much; Nelder-Mead itself is a line-for-line port of scipy's.",
        "",
    ]


def _inside(low: float | None, high: float | None, truth: float) -> float:
    return float(low is not None and high is not None and low - 1e-9 <= truth <= high + 1e-9)


def bench_backtest(configs: dict) -> list[str]:
    """Coverage at 10,000 predicted from 100 samples per problem: every law with its own interval, and the
    recommended model average with its interval, over REPS subsamples per config."""
    names = (*METHODS, "recommended")
    errs: dict[str, list[float]] = {m: [] for m in names}
    inside: dict[str, list[float]] = {m: [] for m in names}
    rows, weights = [], []
    with one_blas_thread():
        for name, counts in configs.items():
            truth = float(coverage(counts.n, counts.c, [10_000])[0])
            rng = config_rng(BACKTEST_SEED, name)
            e: dict[str, list[float]] = {m: [] for m in names}
            w_cfg = []
            for _ in range(REPS):
                sub = hypergeometric_subsample(counts, 100, rng)
                ex = extrapolate(fit_all(sub, 100, rng), 10_000, rng, reps=3)
                for m in METHODS:
                    v = ex.prediction(m)
                    e[m].append(abs(v.coverage - truth) if v.coverage is not None else float("nan"))
                    inside[m].append(_inside(v.low, v.high, truth))
                iv = ex.interval
                e["recommended"].append(abs(iv.coverage - truth))
                inside["recommended"].append(_inside(iv.low, iv.high, truth))
                w = dict(iv.weights or ())
                w_cfg.append([w.get(m, 0.0) for m in ("power_law", "neg_log_power_law", "distributional")])
            for m in names:
                errs[m].append(float(np.nanmean(e[m])) if np.isfinite(e[m]).any() else float("nan"))
            weights.append(np.mean(w_cfg, axis=0))
            flat = truth - float(coverage(counts.n, counts.c, [100])[0])
            w = weights[-1]
            rows.append(
                f"| {name} | {truth:.3f} | "
                + " | ".join(f"{errs[m][-1]:.3f}" for m in names)
                + f" | {flat:.3f} | {w[0]:.2f} / {w[1]:.2f} / {w[2]:.2f} |"
            )
    mean = {m: float(np.nanmean(v)) for m, v in errs.items()}
    worst = {m: float(np.nanmax(v)) for m, v in errs.items()}
    held = {m: float(np.mean(v)) for m, v in inside.items()}
    cases = len(inside["recommended"])
    print(
        "back-test mean |error| at 10,000 from 100:",
        {m: round(v, 4) for m, v in mean.items()},
        "worst",
        {m: round(v, 4) for m, v in worst.items()},
        "interval coverage",
        {m: round(v, 3) for m, v in held.items()},
    )
    head = " | ".join(names)
    return [
        "### Back-test: coverage at k = 10,000 predicted from 100 samples per problem",
        "",
        f"Each config's counts are subsampled to 100 of 10,000 samples per problem (hypergeometric draws, {REPS} "
        f"subsamples per config, random streams seeded per config with seed {BACKTEST_SEED}, which the method "
        "was not developed on), every law is fitted to the subsample (100 bootstrap resamples) and predicts "
        "coverage at 10,000; the truth is the coverage measured on all 10,000. Mean absolute error per config. "
        "`recommended` is what `--extrapolate 10000` recommends: the back-test-weighted model average (README, "
        "fit section); its weights (power law / -log c law / distributional, mean over subsamples) are in the "
        "last column. `flat` = no growth after k = 100.",
        "",
        f"| config | truth | {head} | flat | weights |",
        "|---|---|" + "---|" * (len(names) + 2),
        *rows,
        "| **mean over configs** | | " + " | ".join(f"**{mean[m]:.3f}**" for m in names) + " | | |",
        "| worst config | | " + " | ".join(f"{worst[m]:.3f}" for m in names) + " | | |",
        f"| 95% interval holds the truth ({cases} cases) | | "
        + " | ".join(f"{held[m]:.2f}" for m in names)
        + " | | |",
        "",
        "Each law's own interval (bootstrap over problems, or the MLE's information) carries sampling error "
        "only; the model average's adds the laws' disagreement and its own back-test error.",
        "",
        (
            "How leakage was kept out. The recommendation uses only the 100-sample subsample being extrapolated: "
            "its weights are inverse mean squared errors of a back-test inside that subsample (fit on 10 of its "
            "100 samples per problem, 3 draws, predict its coverage at 100), and its interval is built from the "
            "laws' own intervals, their disagreement and that back-test error. No constant is fitted to the 11 "
            "configs: the previous rule's preference order and interval multiplier, both read off these configs' "
            "full data, are gone, and the truth at 10,000 enters only this table. What was looked at: the "
            "combination rule was chosen among six ways of using the same back-test (pick the best law, stacking "
            "weights on the simplex, inverse-MSE weights, equal weights of two or three laws; back-test sizes 10 "
            "to 50) by their errors on 12 other subsamples per config (seed 101), so the choice itself was made "
            "on these configs and this table is not wholly out of sample. There, inverse-MSE weights at the back-"
            "test size the old rule already used did about as well as the best alternative (0.024 mean, 0.058 "
            "worst, against 0.022 and 0.056 for equal weights of the two curve laws, which would ignore the "
            "data); the back-test term was added to the interval because without it the interval held the "
            "synthetic Beta truth in 7 of 12 cases (0.97 on the configs). The table uses fresh subsamples (seed "
            "7); the synthetic counts below are data the method was not developed on."
        ),
        "",
        *bench_synthetic(),
    ]


def bench_synthetic() -> list[str]:
    """The same extrapolation (100 -> 10,000 samples) on counts drawn from known success-rate laws: data the
    method was not developed on, with a known truth (mean of 1 - (1 - p)^10000 over the drawn rates)."""
    laws = {
        "Beta(0.3, 4)": lambda r: r.beta(0.3, 4.0, 400),
        "0.5 x Beta(0.4, 2)": lambda r: 0.5 * r.beta(0.4, 2.0, 400),
        "30% unsolvable + Beta(0.25, 6)": lambda r: np.where(
            r.random(400) < 0.3, 0.0, r.beta(0.25, 6.0, 400)
        ),
    }
    names = ("power_law", "neg_log_power_law", "distributional", "recommended")
    out = [
        "### The same extrapolation on synthetic counts with known success rates",
        "",
        "400 problems, success rates drawn from a known law, 100 samples each (binomial), 12 seeds per law; the "
        "truth is the mean of 1 - (1 - p)^10000 over the drawn rates. Mean absolute error, and how often the "
        "95% interval holds the truth:",
        "",
        "| success rates | truth | " + " | ".join(names) + " | intervals hold (recommended) |",
        "|---|---|" + "---|" * (len(names) + 1),
    ]
    with one_blas_thread():
        for label, draw in laws.items():
            e: dict[str, list[float]] = {m: [] for m in names}
            held, truths = [], []
            for seed in range(12):
                rng = np.random.default_rng([BACKTEST_SEED, seed])
                p = draw(rng)
                c = rng.binomial(100, p)
                counts = Counts(label, np.array([str(i) for i in range(400)]), np.full(400, 100), c)
                truth = float(np.mean(1 - (1 - p) ** 10_000))
                ex = extrapolate(fit_all(counts, 100, rng), 10_000, rng, reps=3)
                for m in names[:-1]:
                    v = ex.prediction(m)
                    e[m].append(abs(v.coverage - truth) if v.coverage is not None else np.nan)
                iv = ex.interval
                e["recommended"].append(abs(iv.coverage - truth))
                held.append(_inside(iv.low, iv.high, truth))
                truths.append(truth)
            out.append(
                f"| {label} | {np.mean(truths):.3f} | "
                + " | ".join(f"{np.nanmean(e[m]):.3f}" for m in names)
                + f" | {np.mean(held):.2f} |"
            )
            print(
                "synthetic", label, {m: round(float(np.nanmean(v)), 4) for m, v in e.items()}, np.mean(held)
            )
    out += [
        "",
        "No law here models problems that can never be solved (the third row): every law, and so the average, "
        "overshoots, and the interval does not cover it. The back-test cannot see this either: it only plays "
        "the extrapolation out over the k the data reach.",
        "",
    ]
    return out


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
