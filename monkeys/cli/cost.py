"""`monkeys cost` (coverage against FLOPs, device time and dollars) and `monkeys report` (one HTML file)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from monkeys.cli.app import app, console
from monkeys.errors import MonkeysError

AXIS_NAMES = {
    "samples": "samples",
    "flops": "flops",
    "seconds": "seconds",
    "gpu-seconds": "seconds",
    "dollars": "dollars",
}

RunsOpt = Annotated[list[Path] | None, typer.Option("--run", help="run directory (repeatable)")]
OutcomesOpt = Annotated[
    Path | None,
    typer.Option(
        "--outcomes", help="CSV of counts (samples axis only): config, problem, num_samples, num_correct"
    ),
]
ConfigOpt = Annotated[
    list[str] | None, typer.Option("--config", help="only this config of --outcomes (repeatable)")
]
VerifierOpt = Annotated[
    str | None, typer.Option("--verifier", help="verdicts of this verifier (default: the task's)")
]
PricesOpt = Annotated[
    Path | None,
    typer.Option("--prices", help="YAML: model -> input, output [$/M tokens], cached_input, per_attempt"),
]
SharedOpt = Annotated[bool, typer.Option("--shared-problems", help="compare runs on the problems they share")]
LawOpt = Annotated[str, typer.Option("--law", help="law that extrapolates: power_law | neg_log_power_law")]
TokOpt = Annotated[
    str | None, typer.Option("--tokenizer", help="tokenizer dir to count tokens of imported runs (estimated)")
]
BootOpt = Annotated[int, typer.Option("--bootstrap", help="bootstrap resamples of the problems")]


def _fmt(x: float | None, spec: str = ".4g") -> str:
    return "-" if x is None or x != x else format(x, spec)


def _size_override(parameters: float | None, layers: int | None, width: int | None) -> Any:
    from monkeys.analysis.model_config import ModelSize

    given = [v is not None for v in (parameters, layers, width)]
    if not any(given):
        return None
    if not all(given):
        raise MonkeysError("pass --parameters, --layers and --width together (or none of them)")
    return ModelSize(float(parameters), int(layers), int(width), "command line")  # type: ignore[arg-type]


def load_runs(
    runs: list[Path] | None,
    outcomes: Path | None,
    configs: list[str] | None,
    verifier: str | None,
    prices: Path | None,
    tokenizer: str | None,
    size: Any,
    wanted: list[str] | None,
) -> list[Any]:
    from monkeys.analysis.cost_inputs import outcomes_costs, run_cost
    from monkeys.analysis.model_config import read_prices

    if not runs and outcomes is None:
        raise MonkeysError("pass at least one --run DIR (or --outcomes FILE.csv)")
    table = read_prices(prices) if prices is not None else None
    out = [run_cost(r, verifier, table, size, tokenizer, wanted=wanted) for r in runs or []]
    if outcomes is not None:
        out += outcomes_costs(outcomes, configs)
    return out


def _axes(axis: list[str] | None) -> list[str] | None:
    if not axis:
        return None
    try:
        return list(dict.fromkeys(AXIS_NAMES[a] for a in axis))
    except KeyError as exc:
        raise MonkeysError(f"unknown --axis {exc.args[0]!r}; use {', '.join(AXIS_NAMES)}") from None


@app.command("cost")
def cost(
    run: RunsOpt = None,
    outcomes: OutcomesOpt = None,
    config: ConfigOpt = None,
    verifier: VerifierOpt = None,
    prices: PricesOpt = None,
    axis: Annotated[
        list[str] | None,
        typer.Option("--axis", help="samples | flops | gpu-seconds | dollars (default: all available)"),
    ] = None,
    target_coverage: Annotated[
        float | None, typer.Option("--target-coverage", help="which run reaches this coverage cheapest")
    ] = None,
    shared_problems: SharedOpt = False,
    law: LawOpt = "power_law",
    tokenizer: TokOpt = None,
    parameters: Annotated[
        float | None, typer.Option("--parameters", help="model parameters N (API models)")
    ] = None,
    layers: Annotated[int | None, typer.Option("--layers", help="model layers")] = None,
    width: Annotated[int | None, typer.Option("--width", help="model hidden width")] = None,
    plot: Annotated[Path | None, typer.Option("--plot", help="write the plot (PNG, SVG or PDF) here")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="write every number as JSON here")] = None,
    bootstrap: BootOpt = 200,
    seed: Annotated[int, typer.Option("--seed", help="seed of the bootstrap")] = 0,
) -> None:
    """Coverage against samples, FLOPs, GPU-seconds and dollars for several runs; the cheapest run for a target."""
    from monkeys.analysis.compare import compare
    from monkeys.analysis.report import write_json

    wanted = _axes(axis)
    runs = load_runs(
        run, outcomes, config, verifier, prices, tokenizer, _size_override(parameters, layers, width), wanted
    )
    doc, curves = compare(runs, wanted, target_coverage, law, bootstrap, seed, shared_problems)
    print_cost(doc)
    if json_out is not None:
        write_json(json_out, doc)
    if plot is not None:
        from monkeys.analysis.cost_plot import plot_cost

        plot_cost(curves, doc["axes"], plot, doc.get("target"))


def print_cost(doc: dict[str, Any]) -> None:
    def say(text: str) -> None:
        console.print(text, highlight=False, soft_wrap=True, markup=False)

    for name, r in doc["runs"].items():
        cov = r["curve"]["coverage"]
        say(
            f"{name}: {r['task']}, {r['model']}; {r['problems']} problems, {r['samples']} samples, "
            f"{r['solved_problems']} solved; coverage k=1 {cov[0]:.4f}, k={r['curve']['k'][-1]} {cov[-1]:.4f}"
        )
        for axis, a in r["axes"].items():
            if axis == "samples":
                continue
            say(
                f"  {a['label']}: {_fmt(a['total'])} total, {_fmt(a['per_sample'])} per sample, "
                f"{_fmt(a['per_solved_problem'])} per solved problem"
                + (f" ({'; '.join(a['notes'])})" if a["notes"] else "")
            )
        if r.get("prefix_sharing_saves") is not None:
            say(f"  prefix sharing saves {100 * r['prefix_sharing_saves']:.1f}% of FLOPs")
        by_reason: dict[str, list[str]] = {}
        for axis, why in r["unavailable"].items():
            by_reason.setdefault(why, []).append(axis)
        for why, axes in by_reason.items():
            say(f"  no {', '.join(axes)}: {why}")
    target = doc.get("target")
    if target:
        say(f"target coverage {target['target']}:")
        for name, t in target["runs"].items():
            if not t["reached"]:
                say(f"  {name}: not reached ({t['why']})")
                continue
            how = (
                f"extrapolated by {t['law']}, k in [{_fmt(t['k_low'])}, {_fmt(t['k_high'])}]"
                if t["extrapolated"]
                else "measured"
            )
            costs = "; ".join(
                f"{a} {_fmt(c['value'])}"
                + (f" [{_fmt(c['low'])}, {_fmt(c['high'])}]" if t["extrapolated"] else "")
                for a, c in t["cost"].items()
                if a != "samples"
            )
            say(f"  {name}: k={_fmt(t['k'], '.4g')} ({how})" + (f"; {costs}" if costs else ""))
        for axis, name in target["cheapest"].items():
            say(f"  cheapest by {axis}: {name}")
    for c in doc["crossovers"]:
        a, b = c["runs"]
        say(
            f"crossover on {c['axis']}: {a} vs {b} at {_fmt(c['cost'])} (coverage {c['coverage']:.4f}); "
            f"{c['cheaper_above']} is ahead above it" + (" (extrapolated)" if c["extrapolated"] else "")
        )


@app.command("report")
def report(
    out: Annotated[Path, typer.Option("--out", help="the HTML file to write")],
    run: RunsOpt = None,
    outcomes: OutcomesOpt = None,
    config: ConfigOpt = None,
    verifier: VerifierOpt = None,
    prices: PricesOpt = None,
    target_coverage: Annotated[
        float | None, typer.Option("--target-coverage", help="mark the cheapest run")
    ] = None,
    shared_problems: SharedOpt = False,
    law: LawOpt = "power_law",
    tokenizer: TokOpt = None,
    examples: Annotated[
        int, typer.Option("--examples", help="correct and incorrect samples shown per problem")
    ] = 2,
    selection_samples: Annotated[
        int, typer.Option("--selection-samples", help="selection curves on each problem's first N samples")
    ] = 64,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="write the report's numbers as JSON here")
    ] = None,
    bootstrap: BootOpt = 200,
    seed: Annotated[int, typer.Option("--seed", help="seed of the bootstrap")] = 0,
) -> None:
    """One self-contained HTML file: provenance, coverage, selection, cost, per-problem table and examples."""
    from monkeys.analysis.html_report import build_report
    from monkeys.analysis.report import write_json

    runs = load_runs(run, outcomes, config, verifier, prices, tokenizer, None, None)
    html, doc = build_report(
        runs,
        list(run or []),
        verifier,
        target_coverage,
        law,
        bootstrap,
        seed,
        shared_problems,
        examples,
        selection_samples,
    )
    try:
        out.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise MonkeysError(f"cannot write {out}: {exc.strerror}; choose another --out") from None
    if json_out is not None:
        write_json(json_out, doc)
    console.print(f"wrote {out} ({len(html.encode()) / 1e6:.2f} MB) for {len(runs)} run(s)", highlight=False)
