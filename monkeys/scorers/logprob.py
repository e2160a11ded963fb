"""`logprob`: the mean (or sum) token logprob of each sample under the model that made it.

Taken from the `cumulative_logprob` and `completion_tokens` the sampler stored; where a sample has none
(imported runs), recomputed with vLLM's prompt logprobs over prompt + completion, counting the completion's
own tokens (so a stop token the sampler counted is not). An empty completion has no mean: it scores -inf
(ranked last).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from monkeys.errors import MonkeysError
from monkeys.scorers.backends import tokenizer, vllm_llm
from monkeys.scorers.base import SCORERS, ScoreItem, Scorer

REDUCTIONS = ("mean", "sum")


class LogprobScorer(Scorer):
    """Stored token logprobs reduced per sample; missing ones recomputed by `model` on first need."""

    name = "logprob"
    version = "1"

    def __init__(self, model: str | None = None, reduce: str = "mean") -> None:
        if reduce not in REDUCTIONS:
            raise MonkeysError(f"unknown --reduce {reduce!r}; choose mean or sum")
        self.model = model or ""
        self.reduce = reduce
        self.options = {"reduce": reduce}
        self._tok: Any = None
        self._llm: Any = None
        self.recomputed = 0

    def _reduce(self, total: float, tokens: int) -> float:
        if self.reduce == "sum":
            return total
        return total / tokens if tokens > 0 else -math.inf

    def score(self, items: Sequence[ScoreItem]) -> list[float]:
        out: list[float] = []
        missing = []
        for i, it in enumerate(items):
            if it.cumulative_logprob is not None and it.completion_tokens is not None:
                out.append(self._reduce(float(it.cumulative_logprob), int(it.completion_tokens)))
            else:
                out.append(math.nan)
                missing.append(i)
        if missing:
            for i, s in zip(missing, self.recompute([items[i] for i in missing]), strict=True):
                out[i] = s
        return out

    def recompute(self, items: Sequence[ScoreItem]) -> list[float]:
        """Logprobs of each completion given its prompt, by one prefill of prompt + completion."""
        if not self.model or self.model.startswith("unknown"):
            raise MonkeysError(
                "some samples have no stored logprobs and the run names no model to recompute them; "
                "pass --model (the model that made the samples)"
            )
        import vllm
        from vllm.inputs import TokensPrompt

        if self._tok is None:
            self._tok = tokenizer(self.model)
            self._llm = vllm_llm(self.model)
        prompts, spans = [], []
        for it in items:
            head = self._tok(it.problem.prompt)["input_ids"]
            tail = self._tok(it.text, add_special_tokens=False)["input_ids"] if it.text else []
            prompts.append(TokensPrompt(prompt_token_ids=list(head) + list(tail)))
            spans.append((len(head), list(tail)))
        params = vllm.SamplingParams(max_tokens=1, prompt_logprobs=0, temperature=0.0)
        outs = self._llm.generate(prompts, params, use_tqdm=False)
        scores = []
        for o, (start, tail) in zip(outs, spans, strict=True):
            lps = o.prompt_logprobs or []
            total = sum(lps[start + j][tok].logprob for j, tok in enumerate(tail))
            scores.append(self._reduce(float(total), len(tail)))
        self.recomputed += len(items)
        return scores


SCORERS.add("logprob", LogprobScorer)
