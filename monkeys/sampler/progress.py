"""The progress line around the sampling loop: samples, live tokens and tokens/s, requests running, ETA.

Requests often finish together (all n samples of a request end at once, and a request's samples run in
step), so counting finished samples alone leaves the bar at 0 for minutes. Engines with the `LiveStats`
capability are read every half second from a background thread; the ETA comes from tokens: the samples left
times the mean tokens per finished sample (before any finishes, `max_tokens`: then the ETA is an upper bound,
shown as `≤`), less the tokens already generated for running requests, at the tokens/s of the last minute.
Off a terminal (logs, CI) the same figures are printed as one line every `LOG_EVERY` seconds.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from monkeys.errors import Interrupted
from monkeys.sampler.base import Engine, LiveStats
from monkeys.sampler.loop import SampleConfig, SampleReport, sample
from monkeys.sampler.quiet import log_path, third_party_output_to

LOG_EVERY = 15.0
POLL_EVERY = 0.5
RATE_WINDOW = 60.0


def _duration(seconds: float) -> str:
    s = int(round(seconds))
    if s >= 3600:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    if s >= 60:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s}s"


@dataclass
class LiveProgress:
    """The figures the progress line shows, updated by finished requests and by live engine counters."""

    total: int = 0
    done: int = 0  # samples stored, including those stored before this call
    max_tokens: int = 0
    finished_samples: int = 0  # samples finished in this call
    finished_tokens: int = 0
    live_tokens: int | None = None  # from the engine, when it reports them
    running: int | None = None
    engine_up: float | None = None  # monotonic time the engine was ready
    history: deque[tuple[float, int]] = field(default_factory=deque)

    def tokens(self) -> int:
        return max(self.finished_tokens, self.live_tokens or 0)

    def observe(self, now: float) -> None:
        self.history.append((now, self.tokens()))
        while len(self.history) > 2 and now - self.history[1][0] > RATE_WINDOW:
            self.history.popleft()

    def tokens_per_second(self, now: float) -> float | None:
        if self.engine_up is None or len(self.history) < 2:
            return None
        t0, n0 = self.history[0]
        if now - t0 <= 0:
            return None
        return (self.tokens() - n0) / (now - t0)

    def eta(self, now: float) -> tuple[float, bool] | None:
        """Seconds left and whether that is only an upper bound (no sample has finished yet)."""
        rate = self.tokens_per_second(now)
        if not rate or rate <= 0:
            return None
        bound = self.finished_samples == 0
        per_sample = self.max_tokens if bound else self.finished_tokens / self.finished_samples
        in_progress = max(0, self.tokens() - self.finished_tokens)
        left = max(0.0, (self.total - self.done) * per_sample - in_progress)
        return left / rate, bound

    def describe(self, now: float) -> str:
        if self.engine_up is None:
            return "starting engine…"
        parts = [f"{self.tokens():,} tok"]
        rate = self.tokens_per_second(now)
        parts.append(f"{rate:,.0f} tok/s" if rate is not None else "… tok/s")
        if self.running is not None:
            parts.append(f"{self.running} running")
        eta = self.eta(now)
        if eta is not None:
            seconds, bound = eta
            parts.append(f"ETA {'≤' if bound else ''}{_duration(seconds)}")
        return " · ".join(parts)


def run_sampling(
    run_dir: str,
    config: SampleConfig,
    make_engine: Callable[[], Engine],
    console: Console | None = None,
    verbose: bool = False,
    consoles: tuple[Console, ...] = (),
) -> SampleReport:
    """`sample` with a live progress line; third-party output goes to `<run>/logs/` unless `verbose`.

    `consoles` are other consoles of the caller that must keep printing to the terminal meanwhile."""
    console = console or Console(stderr=True)
    log = None if verbose else log_path(run_dir, "sample")
    live = LiveProgress(max_tokens=config.sampling.max_tokens)
    progress = Progress(
        TextColumn("[bold]sampling[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[live]}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )
    task: list[int] = []
    lock = threading.Lock()
    stop = threading.Event()
    printed = [time.monotonic()]

    def refresh() -> None:
        now = time.monotonic()
        with lock:
            live.observe(now)
            text = live.describe(now)
            done = live.done
        if task:
            progress.update(task[0], completed=done, live=text)
        if not console.is_terminal and now - printed[0] >= LOG_EVERY:
            printed[0] = now
            console.print(
                f"sampling: {done}/{live.total} samples · {text}",
                highlight=False,
                markup=False,
                soft_wrap=True,
            )

    def poll(engine: LiveStats) -> None:
        while not stop.wait(POLL_EVERY):
            try:
                stats = engine.live_stats()
            except Exception:  # a counter read must never break sampling
                continue
            with lock:
                live.live_tokens, live.running = stats.generated_tokens, stats.requests_running
            refresh()

    def engine_then_bar() -> Engine:
        t0 = time.monotonic()
        engine = make_engine()
        with lock:
            live.engine_up = time.monotonic()
        if not console.is_terminal:
            console.print(
                f"sampling: engine up after {live.engine_up - t0:.1f}s", highlight=False, soft_wrap=True
            )
        if isinstance(engine, LiveStats):
            threading.Thread(target=poll, args=(engine,), daemon=True, name="monkeys-progress").start()
        refresh()
        return engine

    def on_progress(samples: int, tokens: int) -> None:
        with lock:
            live.done += samples
            live.finished_samples += samples
            live.finished_tokens += tokens
        refresh()

    def on_plan(done: int, total: int) -> None:
        live.done, live.total = done, total
        if log is not None:
            console.print(
                f"engine logs: {log} (--verbose shows them here)",
                highlight=False,
                markup=False,
                soft_wrap=True,
            )
        if console.is_terminal:
            progress.start()
        task.append(
            progress.add_task("sample", total=total, completed=done, live=live.describe(time.monotonic()))
        )

    try:
        with third_party_output_to(log, (console, *consoles)):
            try:
                report = sample(run_dir, config, engine_then_bar, on_progress=on_progress, on_plan=on_plan)
            finally:
                stop.set()
                if console.is_terminal:
                    progress.stop()
            if not console.is_terminal and task:
                printed[0] = float("-inf")
                refresh()  # the last figures, once more
            return report
    except KeyboardInterrupt:
        raise Interrupted(
            f"interrupted; finished samples are stored in {run_dir}; rerun the same command to resume"
        ) from None
