"""Many replicas, one writer: a work-unit scheduler that is itself an engine.

The driver's plan is a list of (problem, chunk) units. Each replica (an HTTP endpoint, a Ray actor) runs
in its own thread and pulls units only when its own engine wants more, so fast replicas take more. Every
finished unit comes back to the driver thread, which alone yields it to the sampling loop and so alone
writes the store. A replica whose engine raises is dead; one that holds units but has finished none for
`hang_timeout` seconds is hung. Either way its units go back to the front of the queue for the others,
and a late answer for a unit already done is dropped, so no sample is lost or stored twice. A driver that
dies leaves the store as any killed run does: the next run plans only what is missing.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from monkeys.sampler.base import Completion, Engine, Request, SamplingParams

UnitKey = tuple[str, int]  # (problem_id, start_index)


def unit_key(req: Request) -> UnitKey:
    return (req.problem_id, req.start_index)


@dataclass
class ReplicaState:
    index: int
    engine: Engine
    alive: bool = True
    leased: dict[UnitKey, Request] = field(default_factory=dict)
    last_progress: float = field(default_factory=time.monotonic)
    done_units: int = 0
    error: str | None = None


class ReplicaPool(Engine):
    """An engine over several engines: `generate` spreads the requests over the live replicas and yields
    each finished request once, in the caller's thread."""

    def __init__(self, replicas: Sequence[Engine], hang_timeout: float = 900.0, poll: float = 0.2) -> None:
        if not replicas:
            raise ValueError("a replica pool needs at least one replica")
        self.replicas = [ReplicaState(i, e) for i, e in enumerate(replicas)]
        self.hang_timeout = hang_timeout
        self.poll = poll
        self.name = replicas[0].name
        self.requeued = 0  # units handed back from a dead or hung replica
        self.duplicates = 0  # late answers for units already done (dropped)

    def describe(self) -> dict[str, Any]:
        first = self.replicas[0].engine.describe()
        settings = dict(first.get("settings", {}))
        settings["replicas"] = len(self.replicas)
        others = [r.engine.describe().get("settings", {}).get("base_url") for r in self.replicas]
        if any(others):
            settings["base_url"] = [u for u in others if u]
        return {**first, "settings": settings}

    def generate(self, requests: Iterable[Request], params: SamplingParams) -> Iterator[Completion]:
        pending: deque[Request] = deque(requests)
        total = len(pending)
        done: set[UnitKey] = set()
        cond = threading.Condition()
        results: queue.Queue[tuple[int, Completion | BaseException | None]] = queue.Queue()
        stop = threading.Event()

        def pull(state: ReplicaState) -> Iterator[Request]:
            # Never blocks: an engine waiting here could not hand back what it has finished.
            while not stop.is_set():
                with cond:
                    if not state.alive or not pending:
                        return
                    req = pending.popleft()
                    if not state.leased:
                        state.last_progress = time.monotonic()
                    state.leased[unit_key(req)] = req
                yield req

        def work(state: ReplicaState) -> None:
            try:
                while not stop.is_set():
                    for completion in state.engine.generate(pull(state), params):
                        results.put((state.index, completion))
                        if stop.is_set():
                            return
                    with cond:  # out of work for now: wait for requeued units or the end
                        while not stop.is_set() and state.alive and not pending:
                            cond.wait(self.poll)
                        if not state.alive:
                            return
            except BaseException as exc:
                results.put((state.index, exc))
            finally:
                results.put((state.index, None))

        def retire(state: ReplicaState, why: str) -> None:
            with cond:
                if not state.alive:
                    return
                state.alive = False
                state.error = why
                back = [r for k, r in state.leased.items() if k not in done]
                state.leased.clear()
                pending.extendleft(reversed(back))
                self.requeued += len(back)
                cond.notify_all()

        threads = [
            threading.Thread(target=work, args=(s,), name=f"replica-{s.index}", daemon=True)
            for s in self.replicas
            if s.alive
        ]
        for t in threads:
            t.start()
        running = len(threads)
        try:
            while len(done) < total:
                try:
                    index, item = results.get(timeout=self.poll)
                except queue.Empty:
                    item, index = None, -1
                if index >= 0:
                    state = self.replicas[index]
                    if item is None:
                        running -= 1
                        retire(state, state.error or "stopped")
                    elif isinstance(item, BaseException):
                        retire(state, f"{type(item).__name__}: {str(item)[:200]}")
                    else:
                        key = unit_key(item.request)
                        with cond:
                            state.leased.pop(key, None)
                            state.last_progress = time.monotonic()
                            state.done_units += 1
                            fresh = key not in done
                            done.add(key)
                        if fresh:
                            yield item
                        else:
                            self.duplicates += 1
                now = time.monotonic()
                for state in self.replicas:
                    if state.alive and state.leased and now - state.last_progress > self.hang_timeout:
                        retire(state, f"hung: no unit finished in {self.hang_timeout:.0f}s")
                if len(done) < total and (running == 0 or not any(s.alive for s in self.replicas)):
                    why = "; ".join(f"replica {s.index}: {s.error}" for s in self.replicas if s.error)
                    raise RuntimeError(f"every replica failed ({why})")
        finally:
            stop.set()
            with cond:
                cond.notify_all()

    def close(self) -> None:
        for state in self.replicas:
            with contextlib.suppress(Exception):  # a dead replica cannot stop the others from closing
                state.engine.close()
