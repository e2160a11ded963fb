"""One figure of coverage against every cost axis for several runs, each curve with its fit and bands."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np

from monkeys.analysis.compare import EXTRAPOLATE_DECADES, Curve

COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#7f7f7f")


def _figure(curves: list[Curve], axes: list[str], target: dict[str, Any] | None):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, panels = plt.subplots(1, len(axes), figsize=(4.6 * len(axes), 3.9), squeeze=False)
    for ax, name in zip(panels[0], axes, strict=True):
        for i, cv in enumerate(curves):
            color = COLORS[i % len(COLORS)]
            axis = cv.run.axes[name]
            x = axis.at(cv.ks)
            ax.fill_between(x, cv.low, cv.high, color=color, alpha=0.18, lw=0)
            ax.plot(x, cv.cov, "-", color=color, lw=2, label=f"{cv.run.name} (measured)")
            if cv.fit is not None:
                reach = cv.n * 10**EXTRAPOLATE_DECADES
                if target and target["runs"][cv.run.name].get("reached"):  # draw the law out to the target
                    t = target["runs"][cv.run.name]
                    reach = max(reach, 1.5 * (t.get("k_high") or t["k"]))
                fk = np.geomspace(1, reach, 200)
                lo, hi = cv.fit.predict_interval(fk)
                fx = axis.at(fk)
                ax.plot(
                    fx,
                    cv.fit.predict(fk),
                    "--",
                    color=color,
                    lw=1.1,
                    label=f"{cv.run.name} {cv.fit.method} fit",
                )
                ax.fill_between(fx, lo, hi, where=fk >= cv.n, color=color, alpha=0.08, lw=0)
            if target and target["runs"][cv.run.name].get("reached"):
                t = target["runs"][cv.run.name]
                c = t["cost"][name]
                err = None
                if c["low"] is not None and c["high"] is not None:
                    err = [[c["value"] - c["low"]], [c["high"] - c["value"]]]
                marker = "o" if not t["extrapolated"] else "D"
                ax.errorbar(
                    [c["value"]], [target["target"]], xerr=err, fmt=marker, color=color, capsize=3, ms=5
                )
        if target:
            ax.axhline(target["target"], color="k", lw=0.8, ls=":")
        ax.set_xscale("log")
        ax.set_ylim(0, 1.02)
        ax.set_xlabel(curves[0].run.axes[name].label if name != "seconds" else "device-seconds")
        ax.set_ylabel("coverage")
        ax.grid(alpha=0.3)  # major lines only: minor ones over many decades cost seconds to draw
    panels[0][0].legend(fontsize=7, loc="upper left")
    fig.suptitle(
        "coverage against cost; bands: 95% bootstrap over problems; dashed: fitted law (lighter band:\n"
        "extrapolated past the samples drawn); markers: the k that reaches the target (diamonds: extrapolated)",
        fontsize=7,
    )
    # fixed margins instead of tight_layout, which draws the whole figure once more to measure it
    fig.subplots_adjust(left=0.06 if len(axes) > 1 else 0.15, right=0.98, bottom=0.16, top=0.88, wspace=0.28)
    return fig, plt


def plot_cost(
    curves: list[Curve], axes: list[str], path: str | Path, target: dict[str, Any] | None = None
) -> None:
    """Write the figure to `path` (PNG, SVG or PDF by its suffix)."""
    fig, plt = _figure(curves, axes, target)
    fig.savefig(path, dpi=130)
    plt.close(fig)


def cost_svg(curves: list[Curve], axes: list[str], target: dict[str, Any] | None = None) -> str:
    """The figure as inline SVG text (for the HTML report: no external file, no font download)."""
    import matplotlib

    fig, plt = _figure(curves, axes, target)
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "monkeys"}):
        fig.savefig(buf, format="svg")
    plt.close(fig)
    return buf.getvalue()
