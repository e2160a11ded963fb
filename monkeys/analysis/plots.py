"""PNG plots: coverage against k (log axis) with fitted laws and intervals; selection methods against coverage."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from monkeys.errors import MonkeysError

STYLES = {
    "power_law": ("tab:orange", "power law log c = a k^b"),
    "neg_log_power_law": ("tab:green", "-log c = A k^-B"),
    "beta_binomial": ("tab:purple", "beta-binomial"),
    "scaled_beta": ("tab:red", "scaled Beta"),
}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_fit_scaling(
    curves: pd.DataFrame, path: str | Path, extrapolation: dict[str, dict] | None = None
) -> None:
    """One panel per config: measured coverage with its bootstrap band, and each fitted law with its band."""
    plt = _pyplot()
    configs = list(dict.fromkeys(curves["config"]))
    cols = min(3, len(configs))
    rows = math.ceil(len(configs) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 3.8 * rows), squeeze=False)
    for ax, name in zip(axes.flat, configs, strict=False):
        d = curves[curves["config"] == name]
        seen = d[d["coverage"].notna()]
        ax.fill_between(seen["k"], seen["coverage_low"], seen["coverage_high"], color="k", alpha=0.15, lw=0)
        ax.plot(seen["k"], seen["coverage"], "k-", lw=2, label="coverage (measured)")
        for method, (color, label) in STYLES.items():
            if d[method].notna().any():
                ax.plot(d["k"], d[method], "--", color=color, lw=1.2, label=label)
                ax.fill_between(
                    d["k"], d[f"{method}_low"], d[f"{method}_high"], color=color, alpha=0.12, lw=0
                )
        ex = (extrapolation or {}).get(name)
        if ex and ex.get("recommended") not in (None, "empirical"):
            rec = ex[ex["recommended"]]
            if rec.get("coverage") is not None:
                lo, hi = rec.get("low"), rec.get("high")
                err = (
                    [[rec["coverage"] - lo], [hi - rec["coverage"]]]
                    if lo is not None and hi is not None
                    else None
                )
                ax.errorbar(
                    [ex["k"]],
                    [rec["coverage"]],
                    yerr=err,
                    fmt="o",
                    color="k",
                    capsize=3,
                    label=f"k={ex['k']} ({ex['recommended']})",
                )
        ax.set_xscale("log")
        ax.set_ylim(0, 1.02)
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("samples k")
        ax.set_ylabel("coverage")
        ax.grid(alpha=0.3, which="both")
    for ax in list(axes.flat)[len(configs) :]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7, loc="upper left")
    _save(fig, plt, path)


def plot_selection(table: pd.DataFrame, path: str | Path, title: str = "") -> None:
    """Coverage and every selection method against k, with the random-subset std as a band."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    ax.plot(table["k"], table["coverage"], "k-", lw=2, label="coverage (oracle verifier)")
    methods = [
        c
        for c in table.columns
        if c not in ("k", "coverage") and not c.endswith(("_subsets_mean", "_subsets_std"))
    ]
    for m in methods:
        (line,) = ax.plot(table["k"], table[m], lw=1.5, label=m)
        mean, std = table[f"{m}_subsets_mean"], table[f"{m}_subsets_std"]
        ax.fill_between(table["k"], mean - std, mean + std, color=line.get_color(), alpha=0.15, lw=0)
    ax.set_xscale("log")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("samples k")
    ax.set_ylabel("fraction of problems solved")
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    _save(fig, plt, path)


def _save(fig, plt, path: str | Path) -> None:
    try:
        fig.tight_layout()
        fig.savefig(path, dpi=120)
    except OSError as exc:
        raise MonkeysError(f"cannot write plot {path}: {exc.strerror}; choose another --plot path") from None
    finally:
        plt.close(fig)
