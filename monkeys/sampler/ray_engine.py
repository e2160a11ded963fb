"""vLLM replicas as Ray core actors, one engine each (tensor parallel inside a replica), driven by the
work-unit scheduler.

Not Ray Data's LLM processor: it keeps one completion of a request with n > 1. Each actor runs our own
`VLLMEngine` (the offline engine with n and per-request seeds), so a sample is the same whichever replica
draws it. The driver sends each actor batches of whole units, two in flight so the actor never idles, and
writes every result itself; an actor that dies (`ray.kill`, a lost node) raises, and the scheduler hands
its units to the others.
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any

from monkeys.errors import MonkeysError
from monkeys.sampler.base import Completion, Engine, Request, SamplingParams

NAMESPACE = "monkeys"
_END = object()


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
    `replicas` named actors `monkeys-replica-<i>` and return a `ReplicaPool` over them."""
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
    actors = []
    for i in range(replicas):
        name = f"monkeys-replica-{i}"
        with contextlib.suppress(ValueError):  # a replica left over from a killed driver
            ray.kill(ray.get_actor(name, namespace=NAMESPACE))
        actor = actor_cls.options(name=name, namespace=NAMESPACE, max_concurrency=1).remote(model, kwargs)
        actors.append(RayReplica(actor, name, batch_samples))
    try:
        for r in actors:
            r.describe()  # waits until every engine is loaded, and fails early with the reason
    except Exception as exc:
        for r in actors:
            r.close()
        raise MonkeysError(
            f"a Ray replica failed to start ({type(exc).__name__}: {str(exc)[:3000]})"
        ) from None
    return ReplicaPool(actors, hang_timeout=hang_timeout)
