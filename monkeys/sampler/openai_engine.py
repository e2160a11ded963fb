"""An engine for any OpenAI-compatible server (vLLM, SGLang, llama.cpp, hosted APIs), on the official
async `openai` client.

Each monkeys request (one problem, `n` samples, seed s) becomes one HTTP request with `n` and `seed` where
the server takes `n`, else `n` parallel requests with seeds s, s+1, ... — the seeds vLLM gives the children
of a seeded n-request, so both ways ask for the same samples. Requests are sent in plan order, one
problem's together, so a server's prefix cache computes each prompt once. The API key is read from the
environment variable named by `api_key_env` and is never recorded anywhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import os
import random
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass
from typing import Any

from monkeys.errors import MonkeysError
from monkeys.sampler.base import ENGINES, Completion, Engine, Request, SamplingParams
from monkeys.sampler.embedded import DEFAULT_MODEL, model_dir

_END = object()
PAUSE_POLL = 0.05  # seconds between asks of a paused request stream
RETRY_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter; a server's `Retry-After` (or `retry-after-ms`) wins."""

    attempts: int = 8
    base: float = 0.5
    cap: float = 30.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), 300.0)
        return random.uniform(0, min(self.cap, self.base * 2**attempt))


def retry_after_seconds(headers: Any, now: float | None = None) -> float | None:
    """Seconds a response asks us to wait: `retry-after-ms`, `Retry-After` as seconds or as an HTTP date
    (counted from `now`, a Unix time, default the clock)."""
    if headers is None:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return float(ms) / 1000
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        try:
            return email.utils.parsedate_to_datetime(value).timestamp() - (
                time.time() if now is None else now
            )
        except (TypeError, ValueError):
            return None


def _retryable(exc: BaseException) -> tuple[bool, float | None]:
    import openai

    if isinstance(exc, openai.APIStatusError):
        return exc.status_code in RETRY_STATUS, retry_after_seconds(exc.response.headers)
    if isinstance(exc, (openai.APITimeoutError, openai.APIConnectionError)):
        return True, None
    return False, None


class OpenAIEngine(Engine):
    """Samples through `/v1/completions` (raw prompts, the default) or `/v1/chat/completions` (the prompt as
    one user message, so the server applies the model's chat template)."""

    name = "openai"

    def __init__(
        self,
        model: str | None = None,
        base_url: str = "http://127.0.0.1:8000/v1",
        endpoint: str = "completions",
        concurrency: int = 64,
        supports_n: bool = True,
        send_seed: bool = True,
        logprobs: bool = True,
        api_key_env: str = "OPENAI_API_KEY",
        timeout: float = 600.0,
        retry: RetryPolicy | None = None,
    ) -> None:
        try:
            import openai
        except ImportError:
            raise MonkeysError("the openai engine needs the openai package; pip install openai") from None
        if endpoint not in ("completions", "chat"):
            raise MonkeysError(f"unknown endpoint {endpoint!r}; choose completions or chat")
        if concurrency < 1:
            raise MonkeysError(f"--concurrency must be at least 1, got {concurrency}")
        # The embedded model is served from its converted directory: that path is the server's model name.
        self.model = str(model_dir()) if model in (None, DEFAULT_MODEL) else str(model)
        self.base_url = base_url.rstrip("/")
        self.endpoint = endpoint
        self.concurrency = concurrency
        self.supports_n = supports_n
        self.send_seed = send_seed
        self.logprobs = logprobs
        self.api_key_env = api_key_env
        self.retry = retry or RetryPolicy()
        self.retries = 0  # how many HTTP attempts were retried (for reports and tests)
        self.version = openai.__version__
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="openai-engine", daemon=True)
        self._thread.start()
        key = os.environ.get(api_key_env) or "EMPTY"  # local servers need none; never stored
        self._client = openai.AsyncOpenAI(base_url=self.base_url, api_key=key, max_retries=0, timeout=timeout)
        self._sem: asyncio.Semaphore | None = None

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "settings": {
                "base_url": self.base_url,
                "endpoint": self.endpoint,
                "supports_n": self.supports_n,
                "send_seed": self.send_seed,
                "api_key_env": self.api_key_env,  # the variable's name only
            },
        }

    # -- one HTTP call, with retries --------------------------------------------------------------------
    async def _call(self, prompt: str, n: int, seed: int, params: SamplingParams) -> Any:
        if self._sem is None:
            self._sem = asyncio.Semaphore(self.concurrency)
        body: dict[str, Any] = {
            "model": self.model,
            "n": n,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "max_tokens": params.max_tokens,
        }
        if params.stop:
            body["stop"] = list(params.stop)
        if self.send_seed:
            body["seed"] = seed
        attempt = 0
        async with self._sem:
            while True:
                try:
                    if self.endpoint == "chat":
                        extra = {"logprobs": True, "top_logprobs": 0} if self.logprobs else {}
                        return await self._client.chat.completions.create(
                            messages=[{"role": "user", "content": prompt}], **body, **extra
                        )
                    extra = {"logprobs": 0} if self.logprobs else {}
                    return await self._client.completions.create(prompt=prompt, **body, **extra)
                except Exception as exc:
                    again, after = _retryable(exc)
                    attempt += 1
                    if not again or attempt >= self.retry.attempts:
                        raise
                    self.retries += 1
                    await asyncio.sleep(self.retry.delay(attempt - 1, after))

    async def _request(self, req: Request, params: SamplingParams) -> Completion:
        if self.supports_n or req.n == 1:
            responses = [await self._call(req.prompt, req.n, req.seed, params)]
        else:
            calls = [self._call(req.prompt, 1, req.seed + j, params) for j in range(req.n)]
            responses = list(await asyncio.gather(*calls))
        return to_completion(req, responses, self.endpoint)

    # -- the engine seam --------------------------------------------------------------------------------
    def generate(self, requests: Iterable[Request | None], params: SamplingParams) -> Iterator[Completion]:
        """Keep up to `concurrency` requests in flight, pulling the next one only when one finishes (so a
        scheduler feeding several engines gives faster ones more work); yield each as it completes. After a
        None from `requests` (a lazy stream waiting on results) the stream is asked again when a request
        completes or within PAUSE_POLL seconds, whichever is first."""
        source = iter(requests)
        in_flight: dict[Future[Completion], Request] = {}
        exhausted = False
        try:
            while True:
                paused = False
                while not exhausted and len(in_flight) < self.concurrency:
                    req = next(source, _END)
                    if req is _END:
                        exhausted = True
                    paused = req is None
                    if req is _END or req is None:
                        break
                    fut = asyncio.run_coroutine_threadsafe(self._request(req, params), self._loop)
                    in_flight[fut] = req
                if not in_flight:
                    if exhausted:
                        return
                    raise RuntimeError("the request stream paused with no request in flight")
                # paused: ask the stream again soon, as what it waits on (verdicts) may come before a response
                done, _ = wait(
                    list(in_flight), timeout=PAUSE_POLL if paused else None, return_when=FIRST_COMPLETED
                )
                for fut in done:
                    in_flight.pop(fut)
                    yield fut.result()
        finally:
            for fut in in_flight:
                fut.cancel()

    def close(self) -> None:
        if not self._loop.is_running():
            return
        with contextlib.suppress(Exception):  # a dead server cannot stop us from closing
            asyncio.run_coroutine_threadsafe(self._client.close(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)


def _choice_fields(choice: Any, endpoint: str) -> tuple[str, int | None, float | None]:
    """(text, completion tokens, cumulative logprob) of one choice, from its logprobs where offered."""
    lp = choice.logprobs  # the client's choice models always have it (None when not asked for)
    if endpoint == "chat":
        text = choice.message.content or ""
        tokens = [t.logprob for t in lp.content] if lp is not None and lp.content is not None else None
    else:
        text = choice.text or ""
        tokens = list(lp.token_logprobs) if lp is not None and lp.token_logprobs is not None else None
    if tokens is None:
        return text, None, None
    return text, len(tokens), float(sum(x for x in tokens if x is not None))


def to_completion(req: Request, responses: list[Any], endpoint: str) -> Completion:
    """One Completion from the response(s) to a request, choices in sample order."""
    choices = [c for r in responses for c in sorted(r.choices, key=lambda c: c.index)]
    if len(choices) != req.n:
        raise RuntimeError(f"the server returned {len(choices)} samples for a request of n={req.n}")
    fields = [_choice_fields(c, endpoint) for c in choices]
    usage = [r.usage for r in responses]
    counts: list[int | None] = [f[1] for f in fields]
    if any(c is None for c in counts) and len(responses) == req.n:  # n=1 responses: usage is per sample
        counts = [u.completion_tokens if u is not None else None for u in usage]
    details = usage[0].prompt_tokens_details if usage[0] is not None else None
    cached = details.cached_tokens if details is not None else None
    return Completion(
        request=req,
        texts=tuple(f[0] for f in fields),
        prompt_tokens=usage[0].prompt_tokens if usage[0] is not None else 0,
        completion_tokens=tuple(counts),  # type: ignore[arg-type]  (None where the server reports none)
        finish_reasons=tuple(str(c.finish_reason) for c in choices),
        cumulative_logprobs=tuple(f[2] for f in fields),
        cached_prompt_tokens=cached,
    )


ENGINES.add("openai", OpenAIEngine)
