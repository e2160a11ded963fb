"""Which engine a `monkeys sample` command gets: one in-process engine, a pool of HTTP endpoints, or a pool
of Ray actors, each behind the same engine seam (the pool is an engine too)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from monkeys.errors import MonkeysError
from monkeys.sampler.base import ENGINES, Engine


def engine_factory(
    engine: str,
    model: str | None,
    base_urls: Sequence[str] = (),
    concurrency: int = 64,
    endpoint: str = "completions",
    ray_address: str | None = None,
    replicas: int = 1,
    tensor_parallel: int = 1,
) -> Callable[[], Engine]:
    """A factory the sampling loop calls once it knows there is work to do."""
    if base_urls and engine != "openai":
        raise MonkeysError("--base-url is for --engine openai; add --engine openai")
    if ray_address and engine != "vllm":
        raise MonkeysError("--ray runs vLLM engines as Ray actors; use it with --engine vllm")
    if replicas < 1 or tensor_parallel < 1:
        raise MonkeysError("--replicas and --tensor-parallel must be at least 1")
    if replicas > 1 and not ray_address:
        raise MonkeysError("--replicas needs --ray ADDRESS (or several --base-url for --engine openai)")
    if engine == "openai":
        urls = list(base_urls) or ["http://127.0.0.1:8000/v1"]

        def make_openai() -> Engine:
            from monkeys.sampler.scheduler import ReplicaPool

            engines: list[Engine] = [
                ENGINES.create("openai", model=model, base_url=u, concurrency=concurrency, endpoint=endpoint)
                for u in urls
            ]
            return engines[0] if len(engines) == 1 else ReplicaPool(engines)

        return make_openai
    if ray_address:

        def make_ray() -> Engine:
            from monkeys.sampler.ray_engine import ray_pool

            return ray_pool(ray_address, replicas, model, tensor_parallel)

        return make_ray
    return lambda: ENGINES.create(engine, model=model)
