"""vLLM replicas as Ray core actors, one engine each (tensor parallel inside a replica), driven by the
work-unit scheduler.

Not Ray Data's LLM processor: it keeps one completion of a request with n > 1. Each actor runs our own
`VLLMEngine` (the offline engine with n and per-request seeds), so a sample is the same whichever replica
draws it. The driver sends each actor batches of whole units, two in flight so the actor never idles, and
writes every result itself; an actor that dies (`ray.kill`, a lost node) raises, and the scheduler hands
its units to the others.

A replica that fails to start (its worker killed while loading, a node's memory monitor, a torn cache
file) is started once more, alone, after the others are up; only a second failure stops the run. Nothing
here waits on a clock: readiness is the actor's answer to `describe`.
"""

from __future__ import annotations

import contextlib
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from monkeys.errors import MonkeysError
from monkeys.sampler.base import Completion, Engine, Request, SamplingParams

NAMESPACE = "monkeys"
_END = object()
E = TypeVar("E", bound=Engine)


class _Replica:
    """The actor's body: one vLLM engine."""

    def __init__(self, model: str | None, engine_kwargs: dict[str, Any]) -> None:
        from monkeys.sampler.vllm_engine import VLLMEngine

        self.engine = VLLMEngine(model=model, **engine_kwargs)

    def describe(self) -> dict[str, Any]:
        return self.engine.describe()

    def run(self, batch: list[Request], params: SamplingParams) -> list[Completion]:
        return list(self.engine.generate(batch, params))


class RayReplica(Engine):
    """The engine seam over one actor: pulls units lazily, so a fast replica asks for more."""

    def __init__(self, actor: Any, name: str, batch_samples: int = 512, in_flight: int = 2) -> None:
        self.actor = actor
        self.actor_name = name
        self.batch_samples = batch_samples
        self.in_flight = in_flight
        self._describe: dict[str, Any] | None = None
        self.name = "vllm"

    def describe(self) -> dict[str, Any]:
        import ray

        if self._describe is None:
            self._describe = ray.get(self.actor.describe.remote())
        return self._describe

    def generate(self, requests: Iterable[Request], params: SamplingParams) -> Iterator[Completion]:
        import ray

        source = iter(requests)
        flying: deque[Any] = deque()
        exhausted = False
        while True:
            paused = False  # the stream yielded None: send what we have, ask again after a batch returns
            while not exhausted and not paused and len(flying) < self.in_flight:
                batch: list[Request] = []
                while sum(r.n for r in batch) < self.batch_samples:
                    req = next(source, _END)
                    if req is _END:
                        exhausted = True
                    paused = req is None
                    if req is _END or req is None:
                        break
                    batch.append(req)
                if batch:
                    flying.append(self.actor.run.remote(batch, params))
            if not flying:
                if exhausted:
                    return
                raise RuntimeError("the request stream paused with no request in flight")
            yield from ray.get(flying.popleft())

    def close(self) -> None:
        import ray

        with contextlib.suppress(Exception):
            ray.kill(self.actor)


def ray_pool(
    address: str,
    replicas: int,
    model: str | None,
    tensor_parallel: int = 1,
    batch_samples: int = 512,
    hang_timeout: float = 900.0,
    engine_kwargs: dict[str, Any] | None = None,
) -> Any:
    """Connect to the cluster at `address` ("auto", "HOST:PORT" or "local" for a throw-away one), start
    `replicas` actors `monkeys-replica-<i>-<job>` and return a `ReplicaPool` over them once every one has
    loaded its engine."""
    try:
        import ray
    except ImportError:
        raise MonkeysError("--ray needs Ray; pip install 'ray[default]'") from None
    from monkeys.sampler.scheduler import ReplicaPool
    from monkeys.sampler.vllm_engine import on_cpu

    if not ray.is_initialized():
        ray.init(address=None if address == "local" else address, namespace=NAMESPACE, log_to_driver=False)
    kwargs = dict(engine_kwargs or {})
    if tensor_parallel > 1:
        kwargs["tensor_parallel_size"] = tensor_parallel
    resources: dict[str, Any] = {"num_cpus": 1} if on_cpu() else {"num_gpus": tensor_parallel}
    actor_cls = ray.remote(**resources)(_Replica)
    # Named per driver: the actors end with this job, and two drivers on one cluster never meet.
    job = ray.get_runtime_context().get_job_id()

    def start(i: int, again: bool = False) -> RayReplica:
        name = f"monkeys-replica-{i}-{job}" + ("-again" if again else "")
        actor = actor_cls.options(name=name, namespace=NAMESPACE, max_concurrency=1).remote(model, kwargs)
        return RayReplica(actor, name, batch_samples)

    return ReplicaPool(start_all(start, replicas), hang_timeout=hang_timeout)


def start_all(start: Callable[[int, bool], E], replicas: int) -> list[E]:
    """Start `replicas` replicas together and wait until each has loaded its engine; one that fails is
    started once more, alone, after the others are up (`start(i, True)`). A second failure closes them all
    and raises."""
    actors = [start(i, False) for i in range(replicas)]
    failed: dict[int, BaseException] = {}
    for i, r in enumerate(actors):
        try:
            r.describe()
        except Exception as exc:
            failed[i] = exc
    try:
        for i, exc in failed.items():
            print(
                f"monkeys: Ray replica {i} failed to start ({_reason(exc, 300)}); starting it again",
                file=sys.stderr,
            )
            actors[i].close()
            actors[i] = start(i, True)
            actors[i].describe()
    except Exception as exc:
        for r in actors:
            r.close()
        raise MonkeysError(
            f"a Ray replica failed to start twice ({_reason(exc, 3000)}); see the Ray logs under the "
            "cluster's temp dir (default /tmp/ray/session_latest/logs)"
        ) from None
    return actors


def _reason(exc: BaseException, limit: int) -> str:
    return f"{type(exc).__name__}: {str(exc)[:limit]}"
