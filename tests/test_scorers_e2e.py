"""End to end through the real CLI on the CPU: `monkeys score` with a reward model through vLLM's pooling
runner and through transformers (the same scores), a vLLM judge and recomputed logprobs checked against
transformers forward passes, `monkeys select --score`, and the score cache reused by a second run."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from monkeys.store import Run

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="session")
def reward_model(tmp_path_factory) -> Path:
    from monkeys.scorers.toy import build_yes_no_classifier

    return build_yes_no_classifier(tmp_path_factory.mktemp("toy-reward"))


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> dict[str, str]:
    from monkeys.sampler.embedded import cache_root

    cache = tmp_path_factory.mktemp("cache")
    (cache / "models").symlink_to(cache_root() / "models")  # the converted embedded model, not the scores
    data = os.environ.get("MONKEYS_DATA_DIR", "/work/shared/data")
    return {**os.environ, "MONKEYS_DATA_DIR": data, "MONKEYS_CACHE_DIR": str(cache)}


def monkeys(args: list[str], e: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monkeys.cli", *args], env=e, capture_output=True, text=True, timeout=timeout
    )


def gsm8k_run(path: Path, e: dict[str, str]) -> Path:
    """2 problems x 4 samples: the reference solution, a wrong final number, a short right one, a refusal."""
    rows = [
        json.loads(x) for x in Path(e["MONKEYS_DATA_DIR"], "gsm8k", "test.jsonl").read_text().splitlines()[:2]
    ]
    lines = []
    for i, r in enumerate(rows):
        final = r["answer"].rsplit("####", 1)[-1].strip()
        wrong = r["answer"].rsplit("####", 1)[0] + f"#### {int(final) + 1}"
        for text in (r["answer"], wrong, f"The answer is {final}.", "I do not know."):
            lines.append(json.dumps({"problem_id": str(i), "text": text}))
    f = path.with_suffix(".jsonl")
    f.write_text("\n".join(lines) + "\n")
    imp = monkeys(["import", "--run", str(path), "--task", "gsm8k", str(f)], e)
    assert imp.returncode == 0, imp.stderr
    ver = monkeys(["verify", "--run", str(path)], e)
    assert ver.returncode == 0, ver.stderr
    return path


def scores(path: Path, name: str) -> dict[tuple[str, int], float]:
    s = Run.open(path).scores(name)
    return dict(zip(zip(s["problem_id"], s["sample_index"], strict=True), s["score"], strict=True))


def test_reward_through_vllm_pooling_and_transformers_agree_then_select_uses_them(
    tmp_path, env, reward_model
):
    run = gsm8k_run(tmp_path / "run", env)
    hf = monkeys(["score", "--run", str(run), "--scorer", "reward", "--model", str(reward_model),
                  "--backend", "transformers", "--name", "reward_hf"], env)  # fmt: skip
    assert hf.returncode == 0, hf.stderr
    assert "8 scored now (8 distinct texts, 0 of them from the cache, 8 computed)" in hf.stdout
    assert "as a verifier against gsm8k: AUROC" in hf.stdout
    vl = monkeys(["score", "--run", str(run), "--scorer", "reward", "--model", str(reward_model),
                  "--backend", "vllm"], env)  # fmt: skip
    assert vl.returncode == 0, vl.stderr
    a, b = scores(run, "reward_hf"), scores(run, "reward")
    assert len(a) == len(b) == 8
    for k in a:
        assert 0 < a[k] < 1 and a[k] == pytest.approx(b[k], abs=2e-4)
    assert len({round(v, 4) for v in a.values()}) > 1  # the scores differ between samples

    out = tmp_path / "sel.json"
    sel = monkeys(["select", "--run", str(run), "--method", "best-of-k", "--score", "reward",
                   "--json", str(out), "--subsets", "20"], env)  # fmt: skip
    assert sel.returncode == 0, sel.stderr
    doc = json.loads(out.read_text())
    assert list(doc["methods"]) == ["best_of_k[reward]"]
    best = doc["methods"]["best_of_k[reward]"]["all_subsets"]
    assert best["4"] == pytest.approx(doc["scorers_as_verifiers"]["reward"]["top1_precision"])
    assert all(doc["coverage"][k] >= best[k] - 1e-12 for k in best)
    assert doc["gap"]["best_of_k[reward]"]["4"] == pytest.approx(doc["coverage"]["4"] - best["4"])
    png = tmp_path / "sel.png"
    wm = monkeys(["select", "--run", str(run), "--method", "weighted-majority", "--score", "reward_hf",
                  "--plot", str(png), "--subsets", "20"], env)  # fmt: skip
    assert wm.returncode == 0, wm.stderr
    assert "weighted_majority[reward_hf]" in wm.stdout and png.stat().st_size > 1000
    never = monkeys(["select", "--run", str(run), "--score", "judge"], env)
    assert (
        never.returncode == 2
        and "has no score 'judge'" in never.stderr
        and len(never.stderr.splitlines()) == 1
    )

    # a second run of the same texts takes every score from the cache, without loading the model
    again = gsm8k_run(tmp_path / "again", env)
    hit = monkeys(["score", "--run", str(again), "--scorer", "reward", "--model", str(reward_model),
                   "--backend", "vllm"], env)  # fmt: skip
    assert hit.returncode == 0, hit.stderr
    assert "8 of them from the cache, 0 computed" in hit.stdout
    assert scores(again, "reward") == b


def test_judge_and_recomputed_logprobs_match_transformers(tmp_path, env):
    import torch
    from transformers import AutoModelForCausalLM

    from monkeys.scorers.backends import model_path, tokenizer
    from monkeys.scorers.base import ScoreItem
    from monkeys.scorers.judge import JudgeScorer
    from monkeys.verifiers.stage.runner import load_problems

    run = gsm8k_run(tmp_path / "run", env)
    j = monkeys(["score", "--run", str(run), "--scorer", "judge", "--model", "embedded"], env)
    assert j.returncode == 0, j.stderr
    lp = monkeys(["score", "--run", str(run), "--scorer", "logprob", "--model", "embedded"], env)
    assert lp.returncode == 0, lp.stderr
    judged, logprobs = scores(run, "judge"), scores(run, "logprob")
    assert len(judged) == len(logprobs) == 8

    r = Run.open(run)
    problems = load_problems(r)
    samples = r.samples(["problem_id", "sample_index", "text"])
    tok = tokenizer("embedded")
    lm = AutoModelForCausalLM.from_pretrained(model_path("embedded"), dtype=torch.float32).eval()
    judge = JudgeScorer(model="embedded")
    for row in samples.itertuples():
        key = (row.problem_id, row.sample_index)
        item = ScoreItem(problems[row.problem_id], row.text)
        ids = tok(judge.prompt(item), add_special_tokens=False)["input_ids"]
        with torch.inference_mode():
            last = torch.log_softmax(lm(torch.tensor([ids])).logits[0, -1].float(), -1)
        py, pn = math.exp(last[judge.yes_id]), math.exp(last[judge.no_id])
        assert judged[key] == pytest.approx(py / (py + pn), abs=2e-3)
        head = tok(item.problem.prompt)["input_ids"]
        tail = tok(row.text, add_special_tokens=False)["input_ids"]
        with torch.inference_mode():
            logits = torch.log_softmax(lm(torch.tensor([head + tail])).logits[0].float(), -1)
        want = sum(float(logits[len(head) + i - 1, t]) for i, t in enumerate(tail)) / len(tail)
        assert logprobs[key] == pytest.approx(want, abs=2e-3)

    sel = monkeys(["select", "--run", str(run), "--method", "all", "--subsets", "20"], env)
    assert sel.returncode == 0, sel.stderr
    for name in (
        "best_of_k[judge]",
        "best_of_k[logprob]",
        "weighted_majority[judge]",
        "score judge as a verifier",
    ):
        assert name in sel.stdout


def test_judge_through_a_vllm_openai_server_matches_the_in_process_judge(tmp_path, env, monkeypatch):
    """`--engine openai` against a real vLLM server: the same token ids, the two exact logprobs through
    vLLM's `logprob_token_ids` extension, so the scores match the in-process judge's up to float32 noise
    between differently batched forward passes (measured below 1e-6; 1e-4 allows for another CPU's
    kernels), then one-line errors for a model the server does not serve and for a server that is gone."""
    from monkeys.sampler.embedded import model_dir
    from monkeys.sampler.local_server import LocalServer

    run = gsm8k_run(tmp_path / "run", env)
    local = monkeys(["score", "--run", str(run), "--scorer", "judge", "--model", "embedded"], env)
    assert local.returncode == 0, local.stderr
    monkeypatch.setenv("MONKEYS_CPU_KV_CACHE_GIB", "0.5")
    # the path the commands resolve `embedded` to (under their own cache dir), which is the served name
    served_path = Path(env["MONKEYS_CACHE_DIR"], "models", model_dir().name)
    server = LocalServer(str(served_path), None, tmp_path / "server.log")
    try:
        server.wait_ready()
        served = monkeys(["score", "--run", str(run), "--scorer", "judge", "--engine", "openai",
                          "--base-url", server.base_url, "--model", "embedded", "--name", "judge_served"],
                         env)  # fmt: skip
        assert served.returncode == 0, served.stderr
        assert "8 scored now (8 distinct texts, 0 of them from the cache, 8 computed)" in served.stdout
        assert "got no score" not in served.stdout
        unknown = monkeys(["score", "--run", str(run), "--scorer", "judge", "--engine", "openai",
                           "--base-url", server.base_url, "--model", "not-served", "--tokenizer", "embedded",
                           "--name", "judge_x"], env)  # fmt: skip
        assert unknown.returncode != 0 and len(unknown.stderr.strip().splitlines()) == 1
        assert "does not serve model 'not-served'" in unknown.stderr
    finally:
        server.stop()
    a, b = scores(run, "judge"), scores(run, "judge_served")
    assert a.keys() == b.keys() and len(a) == 8
    for k in a:
        assert 0 < a[k] < 1 and b[k] == pytest.approx(a[k], abs=1e-4)
    assert len({round(v, 4) for v in a.values()}) > 1  # the scores differ between samples

    gone = monkeys(["score", "--run", str(run), "--scorer", "judge", "--engine", "openai", "--base-url",
                    server.base_url, "--model", "embedded", "--name", "judge_gone", "--no-cache"],
                   env)  # fmt: skip
    assert gone.returncode != 0 and len(gone.stderr.strip().splitlines()) == 1
    assert f"cannot reach the judge server at {server.base_url}" in gone.stderr
