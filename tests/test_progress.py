"""The progress line moves while the engine generates, before any request has finished."""

from __future__ import annotations

import io
import os
import re
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from monkeys.errors import Interrupted
from monkeys.sampler import progress
from monkeys.sampler.base import Completion, EngineStats, LiveStats, Request, SamplingParams
from monkeys.sampler.progress import LiveProgress, run_sampling
from tests.test_sampling_loop import config


class SlowEngine:
    """Generates `tokens_per_sample` tokens per sample, one step for all samples at once, and finishes
    every request together at the end, as batched engines do. Each step waits until the progress poller
    has read the counters once, so the test does not depend on timing."""

    name = "slow"

    def __init__(self, tokens_per_sample: int = 20, tick: float = 0.02) -> None:
        self.tokens_per_sample, self.tick = tokens_per_sample, tick
        self.generated = 0
        self.running = 0
        self.lock = threading.Lock()
        self.seen = threading.Event()

    def describe(self) -> dict[str, Any]:
        return {"name": "slow", "version": "0"}

    def live_stats(self) -> EngineStats:
        with self.lock:
            stats = EngineStats(self.generated, self.running)
        self.seen.set()
        return stats

    def generate(self, requests: Iterable[Request], params: SamplingParams) -> Iterator[Completion]:
        reqs = list(requests)
        samples = sum(r.n for r in reqs)
        with self.lock:
            self.running = len(reqs)
        for _ in range(self.tokens_per_sample):
            time.sleep(self.tick)
            with self.lock:
                self.generated += samples
            self.seen.clear()
            self.seen.wait(timeout=10)
        with self.lock:
            self.running = 0
        for r in reqs:
            n = r.n
            yield Completion(
                r, ("#### 1",) * n, 10, (self.tokens_per_sample,) * n, ("stop",) * n, (-1.0,) * n
            )

    def close(self) -> None:
        pass


def test_slow_engine_has_the_live_stats_capability() -> None:
    assert isinstance(SlowEngine(), LiveStats)


def test_log_line_shows_tokens_growing_before_any_request_finishes(
    tmp_path: Path, data_dir: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(progress, "LOG_EVERY", 0.0)  # a line at every poll
    monkeypatch.setattr(progress, "POLL_EVERY", 0.01)
    out = io.StringIO()
    console = Console(file=out, force_terminal=False, width=200)
    engine = SlowEngine(tokens_per_sample=10, tick=0.01)
    report = run_sampling(str(tmp_path / "r"), config(data_dir, k=4), lambda: engine, console=console)
    assert report.stored == 12
    lines = [line for line in out.getvalue().splitlines() if line.startswith("sampling: 0/12")]
    tokens = [
        int(m.group(1).replace(",", "")) for line in lines if (m := re.search(r"· ([\d,]+) tok ·", line))
    ]
    assert len(set(tokens)) >= 5, out.getvalue()
    assert tokens == sorted(tokens) and tokens[-1] > 0  # it moves while 0 samples are done
    assert any("tok/s" in line and "ETA ≤" in line for line in lines)  # an ETA bound before any finishes
    assert "samples/s" not in out.getvalue() and "starting engine" not in "".join(lines)
    assert "engine up after" in out.getvalue()


def test_eta_uses_mean_tokens_of_finished_samples_and_in_flight_tokens() -> None:
    live = LiveProgress(total=100, done=50, max_tokens=512, engine_up=0.0)
    live.finished_samples, live.finished_tokens, live.live_tokens = 50, 5000, 6000
    live.history.extend([(0.0, 0), (10.0, 6000)])
    # 50 samples left x 100 tokens each, less 1000 already generated for them, at 600 tok/s
    seconds, bound = live.eta(10.0)  # type: ignore[misc]
    assert not bound and seconds == pytest.approx(4000 / 600)
    assert "ETA 7s" in live.describe(10.0)
    assert LiveProgress(total=1, max_tokens=8).describe(0.0) == "starting engine…"


def test_ctrl_c_is_interrupted_with_exit_code_130(tmp_path: Path, data_dir: str) -> None:
    def engine() -> SlowEngine:
        raise KeyboardInterrupt

    with pytest.raises(Interrupted, match="rerun the same command") as info:
        run_sampling(str(tmp_path / "r"), config(data_dir), engine, console=Console(file=io.StringIO()))
    assert info.value.exit_code == 130


CHATTY = """
import io, os, sys
from rich.console import Console
from monkeys.sampler.progress import run_sampling
from tests.test_progress import SlowEngine
from tests.test_sampling_loop import config

class Chatty(SlowEngine):
    def __init__(self):
        super().__init__(tokens_per_sample=2, tick=0.0)
        print("THIRD-PARTY STDOUT", flush=True)
        print("THIRD-PARTY STDERR", file=sys.stderr, flush=True)
        os.write(2, b"C-LEVEL STDERR\\n")

run_sampling(sys.argv[1], config(sys.argv[2], k=2), Chatty, console=Console(stderr=True), consoles=(Console(),))
print("OUR OWN LINE")
"""


def test_third_party_output_goes_to_the_run_log_not_the_terminal(tmp_path: Path, data_dir: str) -> None:
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run(
        [sys.executable, "-c", CHATTY, str(tmp_path / "r"), data_dir],
        capture_output=True,
        text=True,
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    logs = list((tmp_path / "r" / "logs").glob("sample-*.log"))
    assert len(logs) == 1
    text = logs[0].read_text()
    assert "THIRD-PARTY STDOUT" in text and "THIRD-PARTY STDERR" in text and "C-LEVEL STDERR" in text
    both = proc.stdout + proc.stderr
    assert "THIRD-PARTY" not in both and "C-LEVEL" not in both
    assert f"engine logs: {logs[0]}" in proc.stderr and "OUR OWN LINE" in proc.stdout
