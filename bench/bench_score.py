"""Benchmark `monkeys score` against a plain loop of transformers forward passes, one sample at a time.

Samples: GSM8K problems, each with `--per` distinct completions made from its reference solution (the
reference, a wrong final number, a short answer, the bare working) under different opening lines, so that a
problem's samples share its question and diverge a few tokens into the answer, as sampled solutions do.
Models: the toy reward model built from the embedded SmolLM2 (`monkeys.scorers.toy`) and SmolLM2 itself
as the judge; their scores mean little, their cost is that of any 135M-parameter model.

- reward: `score_run` with vLLM's pooling runner (prefix cache on) and with transformers (the shared prefix
  computed once, suffixes in small batches), against a loop of `AutoModelForSequenceClassification`
  forward passes, one exchange per call;
- judge: `score_run` with in-process vLLM (prefix cache on), against a loop of causal-LM forward passes on
  the same prompts, reading P(yes) / (P(yes) + P(no)) off the last position (`logits_to_keep=1`);
- dedup: a run where every problem's samples repeat a few texts, scored by `score_run` (each distinct text
  once) against scoring every sample.

Fair side by side: the same texts, models and float32 everywhere, dedup and the score cache off for the
headline (all texts distinct); model loading and warm-up excluded. The machine is shared, so the problems
are split into rounds and every method runs on each round in turn: a burst of load from elsewhere hits all
of them alike. Run: `flock /tmp/monkeys-heavy.lock python bench/bench_score.py` (about 5 minutes on 2 cores).
Writes the `score` section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import write_section  # noqa: E402
from monkeys.scorers.backends import chat_ids, model_path, tokenizer  # noqa: E402
from monkeys.scorers.base import ScoreItem, Scorer, question_of  # noqa: E402
from monkeys.scorers.judge import JudgeScorer  # noqa: E402
from monkeys.scorers.reward import RewardScorer  # noqa: E402
from monkeys.scorers.stage import score_run  # noqa: E402
from monkeys.scorers.toy import build_yes_no_classifier  # noqa: E402
from monkeys.store import Run  # noqa: E402
from monkeys.store.schema import SAMPLES  # noqa: E402
from monkeys.verifiers.stage.runner import load_problems  # noqa: E402

OPENERS = ("", "Let me work through this.\n", "Step by step:\n", "Here is my solution.\n")


def texts_for(answer: str, j: int) -> str:
    body, final = answer.rsplit("####", 1)
    final = final.strip()
    kinds = [answer, body + f"#### {int(final.replace(',', '')) + 1}", f"The answer is {final}.", body]
    opener = OPENERS[(j // 4) % len(OPENERS)] + ("" if j < 16 else f"Attempt {j}. ")
    return opener + kinds[j % 4]


def make_run(path: Path, problems: int, per: int, distinct: int, first: int = 0) -> Run:
    rows = [
        json.loads(x)
        for x in (Path(os.environ.get("MONKEYS_DATA_DIR", "/work/shared/data")) / "gsm8k" / "test.jsonl")
        .read_text()
        .splitlines()[first : first + problems]
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


def timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def reward_loop(model: Path) -> Callable[[list[ScoreItem]], None]:
    import torch
    from transformers import AutoModelForSequenceClassification

    tok = tokenizer(str(model))
    net = AutoModelForSequenceClassification.from_pretrained(model, dtype=torch.float32).eval()

    def go(items: list[ScoreItem]) -> None:
        for it in items:
            ids = chat_ids(tok, question_of(it.problem), it.text)
            with torch.inference_mode():
                torch.sigmoid(net(input_ids=torch.tensor([ids])).logits[0, 0]).item()

    return go


def judge_loop() -> Callable[[list[ScoreItem]], None]:
    import torch
    from transformers import AutoModelForCausalLM

    judge = JudgeScorer(model="embedded")
    lm = AutoModelForCausalLM.from_pretrained(model_path("embedded"), dtype=torch.float32).eval()

    def go(items: list[ScoreItem]) -> None:
        for it in items:
            ids = judge.ids(it)
            with torch.inference_mode():
                out = lm(torch.tensor([ids]), logits_to_keep=1).logits[0, -1].float()
            last = torch.log_softmax(out, -1)
            py, pn = math.exp(last[judge.yes_id]), math.exp(last[judge.no_id])
            _ = py / (py + pn)

    return go


def warm(scorer: Scorer, items: list[ScoreItem]) -> Scorer:
    scorer.score(items)  # loads the model (and warms vLLM) outside the timing
    return scorer


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--problems", type=int, default=8)
    ap.add_argument("--per", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--skip-vllm", action="store_true")
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-score-"))
    model = build_yes_no_classifier(tmp / "toy")
    per_round = max(1, a.problems // a.rounds)
    warm_items = items_of(make_run(tmp / "warm", 1, 2, 2, first=a.problems))

    # method name -> (kind, how, is the loop, function of a round's index)
    methods: list[tuple[str, str, Callable[[int], None]]] = []
    rounds: dict[str, list[list[ScoreItem]]] = {}
    n_of: dict[str, int] = {}

    def add_stage(kind: str, how: str, scorer: Scorer) -> None:
        runs = [
            make_run(tmp / f"{how}-{r}".replace(" ", "_"), per_round, a.per, a.per, first=r * per_round)
            for r in range(a.rounds)
        ]
        n_of[how] = sum(len(items_of(x)) for x in runs)
        methods.append((kind, how, lambda r: score_run(runs[r], scorer)))

    def add_loop(kind: str, how: str, go: Callable[[list[ScoreItem]], None]) -> None:
        items = [
            items_of(make_run(tmp / f"loop-{kind}-{r}", per_round, a.per, a.per, first=r * per_round))
            for r in range(a.rounds)
        ]
        rounds[how] = items
        n_of[how] = sum(len(x) for x in items)
        go(warm_items)  # the loops are warmed like the scorers: a cold first pass measured 12x slower
        methods.append((kind, how, lambda r: go(items[r])))

    add_loop("reward", "loop: transformers, one sample per forward", reward_loop(model))
    add_stage(
        "reward",
        "score_run, transformers, shared prefix once",
        warm(RewardScorer(str(model), backend="transformers"), warm_items),
    )
    if not a.skip_vllm:
        add_stage(
            "reward",
            "score_run, vLLM pooling runner, prefix cache",
            warm(RewardScorer(str(model), backend="vllm"), warm_items),
        )
        add_loop("judge", "loop: transformers causal LM, one sample per forward", judge_loop())
        add_stage(
            "judge",
            "score_run, in-process vLLM, prefix cache",
            warm(JudgeScorer(model="embedded"), warm_items),
        )

    seconds = {how: 0.0 for _, how, _ in methods}
    loads = [os.getloadavg()[0]]
    for r in range(a.rounds):
        for _, how, fn in methods:
            seconds[how] += timed(lambda fn=fn, r=r: fn(r))
        loads.append(os.getloadavg()[0])
        print(f"round {r + 1}/{a.rounds}: " + ", ".join(f"{v:.1f}s" for v in seconds.values()), flush=True)

    rows = []
    base: dict[str, float] = {}
    for kind, how, _ in methods:
        sec, k = seconds[how], n_of[how]
        base.setdefault(kind, k / sec)
        rows.append((kind, how, k, sec, (k / sec) / base[kind]))

    # dedup: 4x more samples per problem, the same distinct texts
    distinct = max(1, a.per // 4)
    rep_run = make_run(tmp / "run-rep", per_round, 4 * distinct, distinct)
    rep_items = items_of(rep_run)
    scorer = warm(RewardScorer(str(model), backend="transformers"), warm_items)
    every = timed(lambda: scorer.score(rep_items))
    dedup = timed(lambda: score_run(rep_run, scorer))
    loads.append(os.getloadavg()[0])
    how = f"every sample scored ({distinct} distinct texts per {4 * distinct} samples)"
    rows.append(("dedup", how, len(rep_items), every, 1.0))
    rows.append(("dedup", "score_run: each distinct text once", len(rep_items), dedup, every / dedup))

    lines = ["| scorer | how | samples | seconds | samples/s | speed-up |", "|---|---|---:|---:|---:|---:|"]
    for sc, how, k, sec, x in rows:
        lines.append(f"| {sc} | {how} | {k} | {sec:.2f} | {k / sec:.2f} | {x:.2f}x |")
        print(f"{sc:7s} {how:60s} {k:5d} {sec:7.2f}s {k / sec:7.2f}/s {x:5.2f}x", flush=True)
    load = f"1-minute load average {min(loads):.1f} to {max(loads):.1f} during the run (2 cores)"
    print(load)
    body = (
        "## score\n\n"
        f"`bench/bench_score.py`: {per_round * a.rounds} GSM8K problems x {a.per} distinct completions "
        "(sharing the question, diverging a few tokens into the answer), scored by the toy reward model "
        "(SmolLM2-135M as a one-label classifier) and by SmolLM2-135M as a judge, on the CPU, float32, "
        f"dedup and cache off; model loading excluded; the methods take turns over {a.rounds} rounds; "
        f"{load}. Speed-up is in samples/s against the plain loop of the same kind above it.\n\n"
        + "\n".join(lines)
    )
    write_section("score", body)


if __name__ == "__main__":
    main()
