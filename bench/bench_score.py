"""Benchmark `monkeys score` against a plain loop of transformers forward passes, one sample at a time.

Samples: GSM8K problems with completions made from their reference solutions (the reference, a wrong final
number, a short answer, a restated one), all distinct texts. Models: the toy reward model built from the
embedded SmolLM2 (`monkeys.scorers.toy`) and SmolLM2 itself as the judge; their scores mean little, their
cost is that of any 135M-parameter model.

- reward: `score_run` with the transformers backend (batched by length) and with vLLM's pooling runner,
  against a loop of `AutoModelForSequenceClassification` forward passes, one exchange per call;
- judge: `score_run` with in-process vLLM, against a loop of causal-LM forward passes on the same prompts,
  reading P(yes) / (P(yes) + P(no)) off the last position;
- dedup: a run where every problem's samples repeat a few texts, scored by `score_run` (each distinct text
  once) against scoring every sample.

Model loading is excluded everywhere (each side loads first, then is timed). Run:
`flock /tmp/monkeys-heavy.lock python bench/bench_score.py` (a few minutes on 2 cores). Writes the `score`
section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import write_section  # noqa: E402
from monkeys.scorers.backends import chat_ids, model_path, tokenizer  # noqa: E402
from monkeys.scorers.base import ScoreItem, question_of  # noqa: E402
from monkeys.scorers.judge import JudgeScorer  # noqa: E402
from monkeys.scorers.reward import RewardScorer  # noqa: E402
from monkeys.scorers.stage import score_run  # noqa: E402
from monkeys.scorers.toy import build_yes_no_classifier  # noqa: E402
from monkeys.store import Run  # noqa: E402
from monkeys.store.schema import SAMPLES  # noqa: E402
from monkeys.verifiers.stage.runner import load_problems  # noqa: E402


def texts_for(answer: str, j: int) -> str:
    body, final = answer.rsplit("####", 1)
    final = final.strip()
    kinds = [answer, body + f"#### {int(final.replace(',', '')) + j}", f"The answer is {final}.", body]
    return kinds[j % 4] + ("" if j < 4 else f"\n(attempt {j})")


def make_run(path: Path, problems: int, per: int, distinct: int) -> Run:
    rows = [
        json.loads(x)
        for x in (Path(os.environ.get("MONKEYS_DATA_DIR", "/work/shared/data")) / "gsm8k" / "test.jsonl")
        .read_text()
        .splitlines()[:problems]
    ]
    probs = pd.DataFrame(
        {
            "problem_id": [str(i) for i in range(problems)],
            "prompt": [f"Question: {r['question']}\nAnswer:" for r in rows],
            "reference": ["0"] * problems,
            "question": [r["question"] for r in rows],
        }
    )
    run = Run.create(path, {"task": {"name": "gsm8k"}, "model": "embedded", "k": per}, probs)
    cols: dict[str, list] = {c: [] for c in SAMPLES.names}
    for i, r in enumerate(rows):
        for j in range(per):
            cols["problem_id"].append(str(i))
            cols["sample_index"].append(j)
            cols["text"].append(texts_for(r["answer"], j % distinct))
            for c, v in (
                ("prompt_tokens", 1),
                ("completion_tokens", 1),
                ("finish_reason", "stop"),
                ("cumulative_logprob", None),
                ("seed", 0),
                ("cached_prompt_tokens", None),
            ):
                cols[c].append(v)
    with run.writer("samples") as t:
        t.append(pa.Table.from_pydict(cols, schema=SAMPLES))
    return run


def items_of(run: Run) -> list[ScoreItem]:
    problems = load_problems(run)
    s = run.samples(["problem_id", "text"])
    return [ScoreItem(problems[p], t) for p, t in zip(s["problem_id"], s["text"], strict=True)]


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def loop_reward(model: Path, items: list[ScoreItem]) -> float:
    import torch
    from transformers import AutoModelForSequenceClassification

    tok = tokenizer(str(model))
    net = AutoModelForSequenceClassification.from_pretrained(model, dtype=torch.float32).eval()

    def go() -> None:
        for it in items:
            ids = chat_ids(tok, question_of(it.problem), it.text)
            with torch.inference_mode():
                torch.sigmoid(net(input_ids=torch.tensor([ids])).logits[0, 0]).item()

    return timed(go)


def loop_judge(items: list[ScoreItem]) -> float:
    import torch
    from transformers import AutoModelForCausalLM

    judge = JudgeScorer(model="embedded")
    lm = AutoModelForCausalLM.from_pretrained(model_path("embedded"), dtype=torch.float32).eval()

    def go() -> None:
        for it in items:
            ids = judge.tok(judge.prompt(it), add_special_tokens=False)["input_ids"]
            with torch.inference_mode():
                last = torch.log_softmax(lm(torch.tensor([ids])).logits[0, -1].float(), -1)
            py, pn = math.exp(last[judge.yes_id]), math.exp(last[judge.no_id])
            _ = py / (py + pn)

    return timed(go)


def stage(run: Run, scorer, warm: list[ScoreItem]) -> float:
    scorer.score(warm)  # loads the model (and warms vLLM) outside the timing
    return timed(lambda: score_run(run, scorer))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--problems", type=int, default=16)
    ap.add_argument("--per", type=int, default=4)
    ap.add_argument("--skip-vllm", action="store_true")
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-score-"))
    model = build_yes_no_classifier(tmp / "toy")
    run = make_run(tmp / "run", a.problems, a.per, a.per)
    items = items_of(run)
    n = len(items)
    rows = []

    base = loop_reward(model, items)
    rows.append(("reward", "loop: transformers, one sample per forward", n, base, 1.0))
    ours = stage(run, RewardScorer(str(model), backend="transformers"), items[:2])
    rows.append(("reward", "score_run, transformers, batched by length", n, ours, base / ours))
    if not a.skip_vllm:
        r2 = make_run(tmp / "run-v", a.problems, a.per, a.per)
        ours = stage(r2, RewardScorer(str(model), backend="vllm"), items[:2])
        rows.append(("reward", "score_run, vLLM pooling runner", n, ours, base / ours))
        jbase = loop_judge(items)
        rows.append(("judge", "loop: transformers causal LM, one sample per forward", n, jbase, 1.0))
        r3 = make_run(tmp / "run-j", a.problems, a.per, a.per)
        ours = stage(r3, JudgeScorer(model="embedded"), items[:2])
        rows.append(("judge", "score_run, in-process vLLM", n, ours, jbase / ours))

    # dedup: 4x more samples per problem, the same distinct texts
    rep_run = make_run(tmp / "run-rep", a.problems, 4 * a.per, a.per)
    rep_items = items_of(rep_run)
    scorer = RewardScorer(str(model), backend="transformers")
    scorer.score(rep_items[:2])
    every = timed(lambda: scorer.score(rep_items))
    dedup = timed(lambda: score_run(rep_run, scorer))
    rows.append(
        (
            "dedup",
            f"every sample scored ({a.per} distinct texts per {4 * a.per} samples)",
            len(rep_items),
            every,
            1.0,
        )
    )
    rows.append(("dedup", "score_run: each distinct text once", len(rep_items), dedup, every / dedup))

    lines = ["| scorer | how | samples | seconds | samples/s | speed-up |", "|---|---|---:|---:|---:|---:|"]
    for sc, how, k, sec, x in rows:
        lines.append(f"| {sc} | {how} | {k} | {sec:.2f} | {k / sec:.1f} | {x:.2f}x |")
        print(f"{sc:7s} {how:60s} {k:5d} {sec:7.2f}s {k / sec:7.1f}/s {x:5.2f}x", flush=True)
    body = (
        "## score\n\n"
        f"`bench/bench_score.py`: {a.problems} GSM8K problems x {a.per} distinct completions, scored by the toy "
        "reward model (SmolLM2-135M as a one-label classifier) and by SmolLM2-135M as a judge, on the CPU; "
        "model loading excluded. Speed-up is against the plain loop of the same kind above it.\n\n"
        + "\n".join(lines)
    )
    write_section("score", body)


if __name__ == "__main__":
    main()
