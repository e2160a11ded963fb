"""PNG plots: coverage against k (log axis) with fitted laws and intervals; selection methods against coverage."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from monkeys.errors import MonkeysError


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


LAWS = {
    "power_law": ("tab:orange", "power law log c = a k^b"),
    "neg_log_power_law": ("tab:green", "-log c = A k^-B"),
    "distributional": ("tab:purple", "distributional"),
}


def plot_fit_scaling(
    curves: pd.DataFrame,
    path: str | Path,
    configs: dict[str, dict] | None = None,
    law_bands: bool = False,
) -> None:
    """One panel per config (several runs compare side by side): measured coverage with its bootstrap band,
    and each law that fits as a line (the distributional one the text reports; laws flagged poor_fit or
    degenerate are left out and named under the panel). `law_bands` adds the laws' own bands."""
    from matplotlib.ticker import LogLocator, NullFormatter

    plt = _pyplot()
    names = list(dict.fromkeys(curves["config"]))
    configs = configs or {}
    cols = min(3, len(names))
    rows = math.ceil(len(names) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 4.0 * rows + 0.6), squeeze=False)
    handles: dict[str, object] = {}
    for ax, name in zip(axes.flat, names, strict=False):
        d = curves[curves["config"] == name]
        info = configs.get(name, {})
        fits = info.get("fits", {})
        seen = d[d["coverage"].notna()]
        band = ax.fill_between(
            seen["k"], seen["coverage_low"], seen["coverage_high"], color="k", alpha=0.15, lw=0
        )
        (line,) = ax.plot(seen["k"], seen["coverage"], "k-", lw=2)
        handles["coverage (measured)"] = line
        handles["95% bootstrap band"] = band
        left_out = []
        for method, (color, label) in LAWS.items():
            column = fits.get("distributional", {}).get("model") if method == "distributional" else method
            column = column or "beta_binomial"
            f = fits.get(method, {})
            if f.get("degenerate") or f.get("poor_fit") or column not in d or not d[column].notna().any():
                left_out.append(f"{label} ({'degenerate' if f.get('degenerate') else 'poor fit'})")
                continue
            text = f"{label} ({column.replace('_', ' ')})" if method == "distributional" else label
            (handles[text],) = ax.plot(d["k"], d[column], "--", color=color, lw=1.4)
            if law_bands:
                lo, hi = d[f"{column}_low"], d[f"{column}_high"]
                ok = lo.notna() & hi.notna() & ((hi - lo) < 0.5)  # a band as wide as the axis says nothing
                ax.fill_between(d["k"][ok], lo[ok], hi[ok], color=color, alpha=0.12, lw=0)
        ex = info.get("extrapolation")
        if ex and ex.get("recommended") not in (None, "empirical"):
            rec = ex.get("interval") or ex[ex["recommended"]]
            if rec.get("coverage") is not None:
                lo, hi = rec.get("low"), rec.get("high")
                err = (
                    [[rec["coverage"] - lo], [hi - rec["coverage"]]]
                    if lo is not None and hi is not None
                    else None
                )
                handles["extrapolation (recommended, 95%)"] = ax.errorbar(
                    [ex["k"]], [rec["coverage"]], yerr=err, fmt="o", color="k", capsize=3
                )
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(LogLocator(base=10, numticks=12))
        ax.xaxis.set_minor_locator(LogLocator(base=10, subs=range(2, 10), numticks=12))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_ylim(0, 1.02)
        task, _, model = name.partition("_")
        who = f"{task} · {model}" if model else name
        n = info.get("samples_per_problem")
        title = f"{who}\n{info.get('problems', '?')} problems × {n} samples" if n else who
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("samples per problem k")
        ax.set_ylabel("coverage (fraction solved)")
        ax.grid(alpha=0.3, which="major")
        ax.grid(alpha=0.1, which="minor")
        if left_out:
            ax.text(
                0.02,
                0.97,
                "not drawn:\n" + "\n".join(left_out),
                transform=ax.transAxes,
                ha="left",
                va="top",
                fontsize=6.5,
                color="0.35",
            )
    for ax in list(axes.flat)[len(names) :]:
        ax.axis("off")
    fig.legend(
        list(handles.values()),
        list(handles),
        loc="lower center",
        ncol=min(4, len(handles)),
        fontsize=8,
        frameon=False,
    )
    fig.tight_layout(rect=(0, 0.45 / (4.0 * rows + 0.6), 1, 1))
    _save(fig, plt, path, tight=False)


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


def _save(fig, plt, path: str | Path, tight: bool = True) -> None:
    try:
        if tight:
            fig.tight_layout()
        fig.savefig(path, dpi=120)
    except OSError as exc:
        raise MonkeysError(f"cannot write plot {path}: {exc.strerror}; choose another --plot path") from None
    finally:
        plt.close(fig)
