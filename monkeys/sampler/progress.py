"""A rich progress bar around the sampling loop: samples done/total, samples/s, tokens/s, ETA."""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from monkeys.errors import MonkeysError
from monkeys.sampler.base import Engine
from monkeys.sampler.loop import SampleConfig, SampleReport, sample


def run_sampling(
    run_dir: str, config: SampleConfig, make_engine: Callable[[], Engine], console: Console | None = None
) -> SampleReport:
    console = console or Console(stderr=True)
    progress = Progress(
        TextColumn("[bold]sampling[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )
    state = {"task": None, "t0": 0.0, "samples": 0, "tokens": 0, "done": 0, "total": 0, "printed": 0.0}

    def engine_then_bar() -> Engine:
        engine = make_engine()
        state["t0"] = time.monotonic()
        return engine

    def on_progress(samples: int, tokens: int) -> None:
        if state["task"] is None:
            return
        state["samples"] += samples
        state["tokens"] += tokens
        dt = max(time.monotonic() - state["t0"], 1e-9)
        rate = f"{state['samples'] / dt:.1f} samples/s · {state['tokens'] / dt:.0f} tok/s"
        progress.update(state["task"], advance=samples, rate=rate)
        state["done"] += samples
        now = time.monotonic()
        if not console.is_terminal and now - state["printed"] >= 30:  # logs get a line every 30 s instead
            state["printed"] = now
            console.print(f"sampling: {state['done']}/{state['total']} samples, {rate}", highlight=False)

    def on_plan(done: int, total: int) -> None:
        state["done"], state["total"], state["printed"] = done, total, time.monotonic()
        if console.is_terminal:
            progress.start()
        state["task"] = progress.add_task("sample", total=total, completed=done, rate="starting engine…")

    try:
        return sample(run_dir, config, engine_then_bar, on_progress=on_progress, on_plan=on_plan)
    except KeyboardInterrupt:
        raise MonkeysError(
            f"interrupted; finished samples are stored in {run_dir}; rerun the same command to resume"
        ) from None
    finally:
        progress.stop()
