"""FLOPs, dollars and measured time per run (monkeys/analysis/cost.py, model_config.py, cost_inputs.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from monkeys.analysis.cost import Timing, Tokens, dollar_axis, flops_axes, sequence_flops
from monkeys.analysis.cost_inputs import run_cost
from monkeys.analysis.model_config import (
    ModelSize,
    Price,
    config_parameters,
    model_size,
    price_for,
    read_prices,
    size_from_dir,
)
from monkeys.errors import MonkeysError
from tests.cost_runs import make_run

TINY = ModelSize(100.0, 2, 3, "test")


def token_by_token(prompt: int, completions: list[int], size: ModelSize, share: bool) -> float:
    """The paper's per-token formula summed one token at a time: the reference for the closed form."""

    def tok(context: int) -> float:
        return 2.0 * (size.parameters + 2.0 * size.layers * size.width * context)

    total = sum(tok(i) for i in range(prompt)) if share else 0.0
    for t in completions:
        if not share:
            total += sum(tok(i) for i in range(prompt))
        total += sum(tok(prompt + j) for j in range(t))
    return total


def tokens(prompts: list[int], completions: list[list[int]]) -> Tokens:
    return Tokens(
        np.array(prompts, dtype=np.float64),
        np.array([len(c) for c in completions], dtype=np.float64),
        np.array([sum(c) for c in completions], dtype=np.float64),
        np.array([sum(t * t for t in c) for c in completions], dtype=np.float64),
    )


def test_flops_match_hand_computed_values_for_a_known_config():
    # per token 2*(100 + 2*2*3*L) = 200 + 24 L. Prompt of 2 tokens: L=0,1 -> 200 + 224 = 424.
    # Completion of 1 token: L=2 -> 248. Completion of 3 tokens: L=2,3,4 -> 248 + 272 + 296 = 816.
    shared, unshared = flops_axes(tokens([2], [[1, 3]]), TINY)
    assert shared.drawn(np.array([2])) == pytest.approx(424 + 248 + 816)
    assert unshared.drawn(np.array([2])) == pytest.approx(2 * 424 + 248 + 816)
    assert float(sequence_flops(5, TINY)) == pytest.approx(424 + 248 + 272 + 296)  # 5 tokens, L = 0..4
    # one sample per problem at k = 1: the prompt once plus the mean completion's decode
    assert float(shared.at(1)) == pytest.approx(424 + (248 + 816) / 2)


def test_closed_form_equals_the_token_by_token_sum_on_the_embedded_models_size():
    size = ModelSize(134515008.0, 30, 576, "SmolLM2-135M")
    rng = np.random.default_rng(3)
    prompts = [int(p) for p in rng.integers(1, 900, size=5)]
    comps = [[int(t) for t in rng.integers(0, 300, size=int(rng.integers(1, 6)))] for _ in prompts]
    shared, unshared = flops_axes(tokens(prompts, comps), size)
    n = np.array([len(c) for c in comps])
    want_shared = sum(token_by_token(p, c, size, True) for p, c in zip(prompts, comps, strict=True))
    want_unshared = sum(token_by_token(p, c, size, False) for p, c in zip(prompts, comps, strict=True))
    assert shared.drawn(n) == pytest.approx(want_shared, rel=1e-12)
    assert unshared.drawn(n) == pytest.approx(want_unshared, rel=1e-12)
    assert shared.drawn(n) < unshared.drawn(n)


def test_embedded_model_size_comes_from_its_converted_config():
    size = model_size("embedded:smollm2-135m-instruct")
    assert (size.layers, size.width) == (30, 576)
    # the safetensors headers count exactly what the config describes (tied embeddings, 3 KV heads)
    from monkeys.sampler.embedded import model_dir

    cfg = json.loads((model_dir() / "config.json").read_text())
    assert size.parameters == config_parameters(cfg) == 134_515_008


def test_a_config_dir_without_weights_estimates_parameters(tmp_path):
    cfg = {
        "hidden_size": 8,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "vocab_size": 10,
        "intermediate_size": 16,
        "model_type": "llama",
        "tie_word_embeddings": False,
    }
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    size = size_from_dir(tmp_path)
    # embeddings 2*10*8, per layer attention 4*8*8 + gated MLP 3*8*16 + 2 norms of 8, final norm 8
    assert size.parameters == 160 + 2 * (256 + 384 + 16) + 8
    assert "estimated" in size.source


def test_unknown_model_config_is_one_line_saying_what_to_add():
    with pytest.raises(MonkeysError, match="unknown model config for 'gpt-9'.*parameters, layers and width"):
        model_size("gpt-9", {})


def test_dollars_per_sample_with_and_without_a_cached_prompt_price():
    tk = tokens([1000, 2000], [[100, 300], [50]])
    plain = dollar_axis(tk, Price(input=2.0, output=10.0, per_attempt=0.01))
    # problem 0: 2 samples x (1000 in x $2/M + mean 200 out x $10/M + $0.01); problem 1: 2000 in, 50 out
    p0 = 1000 * 2e-6 + 200 * 10e-6 + 0.01
    p1 = 2000 * 2e-6 + 50 * 10e-6 + 0.01
    assert plain.drawn(np.array([2, 1])) == pytest.approx(2 * p0 + p1)
    cached = dollar_axis(tk, Price(input=2.0, output=10.0, cached_input=0.5))
    # the first sample pays the full prompt price, later ones the cached price
    want = (1000 * 2e-6 + 1000 * 0.5e-6 + 400 * 10e-6) + (2000 * 2e-6 + 50 * 10e-6)
    assert cached.drawn(np.array([2, 1])) == pytest.approx(want)
    assert float(cached.at(3)) == pytest.approx(
        (1000 * 2e-6 + 2 * 1000 * 0.5e-6 + 3 * 200 * 10e-6)
        + (2000 * 2e-6 + 2 * 2000 * 0.5e-6 + 3 * 50 * 10e-6)
    )


def test_price_file_is_read_and_checked(tmp_path):
    p = tmp_path / "prices.yaml"
    p.write_text("gpt-4o: {input: 2.5, output: 10, cached_input: 1.25}\nsmall: {input: 0.1, output: 0.2}\n")
    prices = read_prices(p)
    assert price_for("gpt-4o", prices) == Price(2.5, 10.0, 1.25, 0.0)
    with pytest.raises(MonkeysError, match="has no entry for model 'claude'.*gpt-4o, small.*add `claude:"):
        price_for("claude", prices)
    p.write_text("gpt-4o: {input: cheap, output: 10}\n")
    with pytest.raises(MonkeysError, match="gpt-4o.input must be a number"):
        read_prices(p)
    p.write_text("gpt-4o: {inptu: 1, output: 10}\n")
    with pytest.raises(MonkeysError, match="unknown key 'inptu'"):
        read_prices(p)


def test_run_cost_reads_token_counts_size_prices_and_measured_time(tmp_path):
    sessions = [
        {"seconds": 3.0, "samples": 4, "device": {"kind": "gpu", "count": 2, "name": "H100"}},
        {"seconds": 1.0, "samples": 2, "device": {"kind": "gpu", "count": 2, "name": "H100"}},
    ]
    problems = {
        "a": {"prompt_tokens": 10, "tokens": [5, 7, 9], "passed": [False, True, False]},
        "b": {"prompt_tokens": 20, "tokens": [1, 2, 3], "passed": [False, False, False]},
    }
    path = make_run(tmp_path / "r", problems, model="m", sessions=sessions)
    prices = {"m": {"input": 1.0, "output": 2.0, "parameters": 100, "layers": 2, "width": 3}}
    rc = run_cost(path, prices=prices)
    s = rc.summary()
    assert s["samples"] == 6 and s["solved_problems"] == 1
    want = token_by_token(10, [5, 7, 9], TINY, True) + token_by_token(20, [1, 2, 3], TINY, True)
    assert s["axes"]["flops"]["total"] == pytest.approx(want)
    assert s["axes"]["flops"]["per_solved_problem"] == pytest.approx(want)
    assert s["axes"]["dollars"]["total"] == pytest.approx((3 * 10 + 3 * 20) * 1e-6 + (21 + 6) * 2e-6)
    # 4 wall seconds on 2 GPUs for 6 samples
    assert s["axes"]["seconds"]["per_sample"] == pytest.approx(4 * 2 / 6)
    assert s["axes"]["seconds"]["label"].startswith("GPU-seconds (2 x H100)")
    assert 0 < s["prefix_sharing_saves"] < 1


def test_missing_token_counts_and_timing_are_reported_per_axis(tmp_path):
    problems = {"a": {"prompt_tokens": None, "tokens": [None, None], "passed": [True, False]}}
    path = make_run(tmp_path / "r", problems)
    rc = run_cost(path, prices={"m": {"input": 1, "output": 1}})
    assert set(rc.axes) == {"samples"}
    assert "no token counts for 2 of 2 samples" in rc.unavailable["flops"]
    assert "no measured sampling time" in rc.unavailable["seconds"]
    with pytest.raises(MonkeysError, match="no token counts for 2 of 2 samples.*--tokenizer"):
        run_cost(path, wanted=["flops"])


def test_imported_runs_get_token_counts_from_a_tokenizer_labelled_estimated(tmp_path):
    from monkeys.sampler.embedded import model_dir

    problems = {
        "a": {
            "prompt_tokens": None,
            "tokens": [None, None],
            "passed": [True, False],
            "texts": {0: "The answer is 4.", 1: "I think it is five"},
        }
    }
    path = make_run(tmp_path / "r", problems, model="embedded:smollm2-135m-instruct")
    rc = run_cost(path, tokenizer=str(model_dir()), wanted=["flops"])
    assert rc.tokens is not None and rc.tokens.estimated
    assert rc.tokens.sum_t[0] > 6 and rc.tokens.prompt[0] > 2
    assert rc.summary()["axes"]["flops"]["notes"] == ["token counts estimated from the texts"]


def test_sampling_records_wall_time_and_device_per_session(tmp_path: Path, data_dir: str):
    from monkeys.sampler.loop import sample
    from monkeys.store import Run
    from tests.fakes import FakeEngine
    from tests.test_sampling_loop import config

    sample(str(tmp_path / "r"), config(data_dir, k=4), FakeEngine)
    sample(str(tmp_path / "r"), config(data_dir, k=8), FakeEngine)
    sessions = Run.open(tmp_path / "r").manifest["sessions"]
    assert [s["samples"] for s in sessions] == [12, 12]
    assert all(
        s["seconds"] >= 0 and s["device"]["kind"] == "cpu" and s["device"]["count"] >= 1 for s in sessions
    )
    from monkeys.analysis.cost import timing_from_manifest

    t = timing_from_manifest({"sessions": sessions}, "r")
    assert isinstance(t, Timing) and t.samples == 24 and t.unit == "CPU core-seconds"


def test_dollars_use_the_cached_prompt_tokens_the_engine_recorded(tmp_path):
    # problem a: 3 samples of a 100-token prompt, the first request missed the cache, the others hit 96
    # tokens; problem b has no counts (an older shard or another engine): the assumed split applies
    problems = {
        "a": {
            "prompt_tokens": 100,
            "tokens": [5, 5, 5],
            "passed": [True] * 3,
            "cached_prompt_tokens": [0, 96, 96],
        },
        "b": {
            "prompt_tokens": 50,
            "tokens": [2, 2],
            "passed": [False] * 2,
            "cached_prompt_tokens": [None, 7],
        },
    }
    path = make_run(tmp_path / "r", problems)
    prices = {"m": {"input": 2.0, "output": 10.0, "cached_input": 0.5}}
    rc = run_cost(path, prices=prices)
    assert rc.tokens is not None and rc.tokens.sum_cached is not None
    assert rc.tokens.sum_cached[0] == 192 and np.isnan(rc.tokens.sum_cached[1])
    s = rc.summary()
    bill_a = (300 - 192) * 2e-6 + 192 * 0.5e-6 + 15 * 10e-6  # exactly what the drawn samples cost
    assumed_b = 50 * 2e-6 + 50 * 0.5e-6 + 4 * 10e-6
    assert s["axes"]["dollars"]["total"] == pytest.approx(bill_a + assumed_b)
    assert s["tokens"]["cached_prompt"] == 192  # problem b, partly counted, is left out
    assert "recorded them for 1 of 2 problems" in s["axes"]["dollars"]["notes"][0]
    # without a cached-input price the counts change nothing: every prompt token is billed as input
    plain = run_cost(path, prices={"m": {"input": 2.0, "output": 10.0}}).summary()
    assert plain["axes"]["dollars"]["total"] == pytest.approx((300 + 100) * 2e-6 + 19 * 10e-6)


def test_runs_without_cached_counts_keep_the_assumed_cache_split(tmp_path):
    problems = {"a": {"prompt_tokens": 100, "tokens": [5, 5], "passed": [True, False]}}
    rc = run_cost(
        make_run(tmp_path / "r", problems), prices={"m": {"input": 2.0, "output": 10.0, "cached_input": 0.5}}
    )
    assert rc.tokens is not None and rc.tokens.sum_cached is None
    assert rc.summary()["tokens"]["cached_prompt"] is None
    assert rc.summary()["axes"]["dollars"]["total"] == pytest.approx(100 * 2e-6 + 100 * 0.5e-6 + 10 * 10e-6)
