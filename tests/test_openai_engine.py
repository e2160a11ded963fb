"""The openai engine against a local HTTP test server: retries honour Retry-After on 429/500, n and seeds
go out as asked, usage comes back per sample, and the API key never reaches the run store."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from monkeys.sampler.base import Request, SamplingParams
from monkeys.sampler.loop import SampleConfig, sample
from monkeys.sampler.openai_engine import OpenAIEngine, RetryPolicy, retry_after_seconds
from monkeys.sampler.schedule import seed_base
from monkeys.tasks import TaskOptions


class Script:
    """What the test server answers: a queue of failures first, then completions."""

    def __init__(self, failures: list[tuple[int, dict[str, str]]]) -> None:
        self.failures = list(failures)
        self.calls: list[tuple[float, dict[str, Any], dict[str, str]]] = []
        self.lock = threading.Lock()


def make_handler(script: Script) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:  # noqa: N802
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with script.lock:
                script.calls.append((time.monotonic(), body, {k.lower(): v for k, v in self.headers.items()}))
                failure = script.failures.pop(0) if script.failures else None
            if failure is not None:
                status, headers = failure
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                payload = b'{"error": {"message": "busy"}}'
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                return
            n, seed = body["n"], body.get("seed", 0)
            choices = [
                {
                    "index": j,
                    "text": f" seed={seed + j} #### {(seed + j) % 7}",
                    "finish_reason": "stop",
                    "logprobs": {"tokens": ["a", "b", "c"], "token_logprobs": [-0.5, -0.25, -0.25]},
                }
                for j in range(n)
            ]
            usage = {
                "prompt_tokens": 11,
                "completion_tokens": 3 * n,
                "total_tokens": 11 + 3 * n,
                "prompt_tokens_details": {"cached_tokens": 8},
            }
            payload = json.dumps(
                {"id": "x", "object": "text_completion", "created": 0, "model": body["model"],
                 "choices": choices, "usage": usage}
            ).encode()  # fmt: skip
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    return Handler


@pytest.fixture
def server() -> Iterator[tuple[str, Script]]:
    script = Script([])
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(script))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/v1", script
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_retry_after_is_read_as_seconds_milliseconds_or_a_date() -> None:
    assert retry_after_seconds({"retry-after": "2"}) == 2.0
    assert retry_after_seconds({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    now = 1_700_000_000.0  # a fixed instant: the answer must not depend on how fast the test runs
    date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(now + 30))
    assert retry_after_seconds({"retry-after": date}, now=now) == 30.0
    assert retry_after_seconds({}) is None
    policy = RetryPolicy(base=0.5, cap=4.0)
    assert all(0 <= policy.delay(10, None) <= 4.0 for _ in range(100))
    assert policy.delay(3, 1.5) == 1.5


def test_429_and_500_are_retried_after_the_wait_the_server_asks(server: tuple[str, Script]) -> None:
    url, script = server
    script.failures = [(429, {"Retry-After": "1"}), (500, {"retry-after-ms": "300"}), (503, {})]
    engine = OpenAIEngine(model="m", base_url=url, retry=RetryPolicy(attempts=5, base=0.01))
    try:
        (c,) = list(engine.generate([Request("p", "Q", 0, 3, 100)], SamplingParams(max_tokens=5)))
    finally:
        engine.close()
    assert engine.retries == 3 and len(script.calls) == 4
    gaps = [b[0] - a[0] for a, b in zip(script.calls, script.calls[1:], strict=False)]
    assert gaps[0] >= 0.95 and gaps[1] >= 0.28  # Retry-After: 1 s, then retry-after-ms: 300
    assert c.texts == (" seed=100 #### 2", " seed=101 #### 3", " seed=102 #### 4")
    assert c.completion_tokens == (3, 3, 3) and c.prompt_tokens == 11 and c.cached_prompt_tokens == 8
    assert c.cumulative_logprobs == (-1.0, -1.0, -1.0)


def test_retries_stop_after_the_attempt_limit(server: tuple[str, Script]) -> None:
    import openai

    url, script = server
    script.failures = [(500, {"retry-after": "0"})] * 10
    engine = OpenAIEngine(model="m", base_url=url, retry=RetryPolicy(attempts=3, base=0.01))
    try:
        with pytest.raises(openai.InternalServerError):
            list(engine.generate([Request("p", "Q", 0, 1, 1)], SamplingParams()))
    finally:
        engine.close()
    assert len(script.calls) == 3


def test_a_client_error_is_not_retried(server: tuple[str, Script]) -> None:
    import openai

    url, script = server
    script.failures = [(400, {})]
    engine = OpenAIEngine(model="m", base_url=url, retry=RetryPolicy(attempts=5, base=0.01))
    try:
        with pytest.raises(openai.BadRequestError):
            list(engine.generate([Request("p", "Q", 0, 1, 1)], SamplingParams()))
    finally:
        engine.close()
    assert len(script.calls) == 1


def test_without_n_support_each_sample_is_its_own_request_with_seed_plus_j(
    server: tuple[str, Script],
) -> None:
    url, script = server
    engine = OpenAIEngine(model="m", base_url=url, supports_n=False)
    try:
        (c,) = list(engine.generate([Request("p", "Q", 4, 3, 50)], SamplingParams()))
    finally:
        engine.close()
    assert sorted((b["n"], b["seed"]) for _, b, _ in script.calls) == [(1, 50), (1, 51), (1, 52)]
    assert c.texts == (" seed=50 #### 1", " seed=51 #### 2", " seed=52 #### 3")


def test_api_key_is_sent_but_never_stored(
    server: tuple[str, Script], tmp_path: Path, data_dir: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, script = server
    secret = "sk-monkeys-test-7f3a9c1e5b"
    monkeypatch.setenv("MONKEYS_TEST_KEY", secret)
    config = SampleConfig(
        task="gsm8k",
        task_options=TaskOptions(data_dir=data_dir, limit=2),
        model="m",
        k=6,
        chunk_size=4,
        engine="openai",
    )
    run = tmp_path / "r"
    report = sample(str(run), config, lambda: OpenAIEngine("m", url, api_key_env="MONKEYS_TEST_KEY"))
    assert report.total == 12
    assert all(h.get("authorization") == f"Bearer {secret}" for _, _, h in script.calls)
    # requests of one problem go out together, with n and the seed of their first sample
    sent = sorted((b["seed"], b["n"]) for _, b, _ in script.calls)
    want = sorted((seed_base(0, pid) + start, n) for pid in ("0", "1") for start, n in ((0, 4), (4, 2)))
    assert sent == want
    stored = b"".join(p.read_bytes() for p in run.rglob("*") if p.is_file())
    assert secret.encode() not in stored and b"MONKEYS_TEST_KEY" in stored
    df = report.run.samples()
    assert (df["completion_tokens"] == 3).all() and (df["prompt_tokens"] == 11).all()


def test_a_paused_request_stream_waits_for_a_completion_instead_of_ending(server: tuple[str, Script]) -> None:
    """`monkeys solve` yields None while it waits on verdicts: the engine must stop pulling, not stop."""
    url, _ = server
    engine = OpenAIEngine(model="m", base_url=url)
    got: list[int] = []

    def stream() -> Iterator[Request | None]:
        yield Request("p", "Q", 0, 1, 10)
        while not got:  # nothing more until the first request is back
            yield None
        yield Request("p", "Q", 1, 1, 11)

    try:
        for c in engine.generate(stream(), SamplingParams()):
            got.append(c.request.start_index)
    finally:
        engine.close()
    assert got == [0, 1]
