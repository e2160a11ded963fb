"""Many replicas, one writer: a work-unit scheduler that is itself an engine.

The driver's plan is a stream of (problem, chunk) units, pulled lazily by the driver thread into a short
queue (`prefetch` units), so `monkeys solve` can base later units on earlier results; a None from the
stream means "nothing more for now" and is asked again at the next wake-up. Each replica (an HTTP endpoint, a Ray actor) runs
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
_END = object()
_HUNGRY = object()  # a replica found nothing queued: the driver should ask the source for more


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

    def __init__(
        self, replicas: Sequence[Engine], hang_timeout: float = 900.0, poll: float = 0.2, prefetch: int = 256
    ) -> None:
        if not replicas:
            raise ValueError("a replica pool needs at least one replica")
        self.replicas = [ReplicaState(i, e) for i, e in enumerate(replicas)]
        self.hang_timeout = hang_timeout
        self.poll = poll
        self.prefetch = prefetch  # units queued ahead of the replicas' pulls
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

    def generate(self, requests: Iterable[Request | None], params: SamplingParams) -> Iterator[Completion]:
        source = iter(requests)  # pulled lazily by this (the driver's) thread only, as `solve` needs
        pending: deque[Request] = deque()
        taken = 0  # units taken from the source
        exhausted = False
        done: set[UnitKey] = set()
        cond = threading.Condition()
        results: queue.Queue[tuple[int, Any]] = queue.Queue()
        stop = threading.Event()

        def top_up() -> None:
            """Queue up to `prefetch` units from the source, until it ends or yields None (it waits on
            results: asked again at the next wake-up)."""
            nonlocal taken, exhausted
            while not exhausted:
                with cond:
                    if len(pending) >= self.prefetch:
                        return
                req = next(source, _END)
                if req is None:
                    return
                with cond:
                    if req is _END:
                        exhausted = True
                    else:
                        pending.append(req)
                        taken += 1
                    cond.notify_all()

        def pull(state: ReplicaState, held: list[int]) -> Iterator[Request | None]:
            # Never blocks: an engine waiting here could not hand back what it has finished. With nothing
            # queued it yields None while its engine holds units (the lazy-stream contract), else it ends.
            while not stop.is_set():
                with cond:
                    if not state.alive:
                        return
                    req = pending.popleft() if pending else None
                    if req is not None:
                        if not state.leased:
                            state.last_progress = time.monotonic()
                        state.leased[unit_key(req)] = req
                    elif exhausted or not held[0]:
                        return
                if req is None:
                    results.put((state.index, _HUNGRY))
                else:
                    held[0] += 1
                yield req

        def work(state: ReplicaState) -> None:
            try:
                while not stop.is_set():
                    held = [0]  # units this replica's engine holds unfinished
                    for completion in state.engine.generate(pull(state, held), params):
                        held[0] -= 1
                        results.put((state.index, completion))
                        if stop.is_set():
                            return
                    results.put((state.index, _HUNGRY))
                    with cond:  # out of work for now: wait for more units or the end
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
        top_up()
        for t in threads:
            t.start()
        running = len(threads)
        try:
            while True:
                top_up()
                with cond:
                    if exhausted and not pending and len(done) >= taken:
                        return
                    idle = not pending and len(done) >= taken
                if idle:
                    raise RuntimeError("the request stream paused with no request in flight")
                try:
                    index, item = results.get(timeout=self.poll)
                except queue.Empty:
                    item, index = _HUNGRY, -1
                if index >= 0 and item is not _HUNGRY:
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
                with cond:
                    unfinished = bool(pending) or len(done) < taken
                if unfinished and (running == 0 or not any(s.alive for s in self.replicas)):
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
