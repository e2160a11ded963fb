"""Build a RunCost from a run directory (counts, token counts, model size, prices, measured time) or from an
outcomes table (counts only: the samples axis)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from monkeys.analysis.cost import (
    RunCost,
    count_tokens,
    dollar_axis,
    flops_axes,
    samples_axis,
    seconds_axis,
    timing_from_manifest,
    tokens_from_frame,
)
from monkeys.analysis.model_config import ModelSize, model_size, price_for
from monkeys.analysis.outcomes import Counts, read_outcomes, run_counts, run_name
from monkeys.errors import MonkeysError


def _task_name(manifest: dict[str, Any]) -> str:
    task = manifest.get("task")
    return str(task.get("name") if isinstance(task, dict) else task or "?")


def _sample_tokens(run: Any, counts: Counts, tokenizer: str | None) -> pd.DataFrame:
    df = run.samples(columns=["problem_id", "prompt_tokens", "completion_tokens", "cached_prompt_tokens"])
    missing = df["completion_tokens"].isna() | df["prompt_tokens"].isna()
    if not missing.any() or tokenizer is None:
        return df
    # imported runs: count the prompt and the missing completions with the model's tokenizer
    texts = run.samples(columns=["text"])["text"].fillna("").tolist()
    rows = np.flatnonzero(missing.to_numpy())
    df.loc[rows, "completion_tokens"] = count_tokens([texts[i] for i in rows], tokenizer)
    problems = run.problems()
    prompt_len = dict(
        zip(
            problems["problem_id"].astype(str),
            count_tokens(problems["prompt"].fillna("").tolist(), tokenizer),
            strict=True,
        )
    )
    df["prompt_tokens"] = df["prompt_tokens"].fillna(df["problem_id"].astype(str).map(prompt_len))
    df.attrs["estimated"] = True
    return df


def run_cost(
    path: str | Path,
    verifier: str | None = None,
    prices: dict[str, dict[str, Any]] | None = None,
    size: ModelSize | None = None,
    tokenizer: str | None = None,
    model_name: str | None = None,
    wanted: list[str] | None = None,
) -> RunCost:
    """Every axis computable for the run at `path`; an axis that cannot be computed is left out with its
    reason, and raising happens only when the user asked for that axis (`wanted`)."""
    from monkeys.store import Run

    run = Run.open(path)
    manifest = run.manifest
    counts = run_counts(run, verifier)
    model = model_name or str(manifest.get("model", "?"))
    rc = RunCost(run_name(run), _task_name(manifest), model, counts, {"samples": samples_axis(counts)})

    def attempt(axis: str, build) -> None:  # noqa: ANN001  (a zero-argument closure)
        try:
            build()
        except MonkeysError as exc:
            if wanted and axis in wanted:
                raise
            rc.unavailable[axis] = str(exc)

    def tokens() -> None:
        df = _sample_tokens(run, counts, tokenizer)
        rc.tokens = tokens_from_frame(df, counts, str(run.path), estimated=bool(df.attrs.get("estimated")))

    attempt("flops", tokens)
    if rc.tokens is not None:

        def flops() -> None:
            rc.size = model_size(model, prices, size)
            rc.axes["flops"], rc.axes["flops_no_sharing"] = flops_axes(rc.tokens, rc.size)

        attempt("flops", flops)

        def dollars() -> None:
            if prices is None:
                raise MonkeysError(f"{rc.name}: dollars need a price file; pass --prices prices.yaml")
            rc.price = price_for(model, prices)
            rc.axes["dollars"] = dollar_axis(rc.tokens, rc.price)

        attempt("dollars", dollars)
    else:
        rc.unavailable["dollars"] = rc.unavailable.get("flops", "no token counts")

    def seconds() -> None:
        rc.timing = timing_from_manifest(manifest, str(run.path))
        rc.axes["seconds"] = seconds_axis(counts, rc.timing)

    attempt("seconds", seconds)
    return rc


def outcomes_costs(path: str | Path, configs: list[str] | None = None) -> list[RunCost]:
    """Configs of an outcomes CSV as runs with the samples axis only (the table holds no token counts)."""
    by_config = read_outcomes(path, configs)
    head = pd.read_csv(path, nrows=0).columns
    tasks: dict[str, str] = {}
    if "task" in head:
        df = pd.read_csv(path, usecols=["config", "task"]).drop_duplicates("config")
        tasks = dict(zip(df["config"].astype(str), df["task"].astype(str), strict=True))
    out = []
    for name, counts in by_config.items():
        why = f"{path} holds outcome counts only (no token counts or times)"
        out.append(
            RunCost(
                name,
                tasks.get(name, "?"),
                name,
                counts,
                {"samples": samples_axis(counts)},
                {"flops": why, "seconds": why, "dollars": why},
            )
        )
    return out
