"""`reward`: a sequence-classification reward model scores each (question, answer) exchange.

The exchange is written in the model's own chat template, as reward-model cards expect, and the score is
the classifier's output after its activation: sigmoid(reward) for one label (so scores lie in (0, 1) and can
weight votes, in the same order as the raw rewards), the chosen label's softmax probability for several.
Backends: vLLM's pooling runner (`LLM.classify`, the default) or transformers, both fed the same token
ids and batched by length. Meaningful scores need a real reward model; a model made for
tests (e.g. from the embedded SmolLM2) only proves the plumbing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from monkeys.errors import MonkeysError
from monkeys.scorers.backends import chat_ids, model_path, tokenizer, vllm_llm
from monkeys.scorers.base import SCORERS, ScoreItem, Scorer, question_of

CLASSIFIER_SUFFIXES = ("ForSequenceClassification", "ForRewardModel", "RewardModel")
BATCH_TOKENS = 16384  # padded tokens per transformers forward pass


def check_classifier(model: str) -> Any:
    """The model's config, or a one-line error when it is not a sequence classifier."""
    from transformers import AutoConfig

    try:
        cfg = AutoConfig.from_pretrained(model_path(model))
    except (OSError, ValueError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise MonkeysError(f"cannot load reward model {model!r} ({first}); check --model") from None
    arch = list(cfg.architectures or [])
    if not any(a.endswith(CLASSIFIER_SUFFIXES) for a in arch):
        raise MonkeysError(
            f"model {model!r} is a {'/'.join(arch) or 'model without an architecture'}, not a sequence "
            "classifier; --scorer reward needs a reward model (…ForSequenceClassification), or use "
            "--scorer judge for a generative model"
        )
    return cfg


class RewardScorer(Scorer):
    """Reward-model scores through vLLM's pooling runner or transformers; the model loads on first use."""

    name = "reward"
    version = "1"

    def __init__(
        self,
        model: str,
        backend: str = "auto",
        label: int | None = None,
        max_length: int | None = None,
        batch_tokens: int = BATCH_TOKENS,
    ) -> None:
        if not model:
            raise MonkeysError("--scorer reward needs --model (a reward model path or name)")
        cfg = check_classifier(model)
        if backend == "auto":  # vLLM measured faster on the CPU too (bench/bench_score.py)
            backend = "vllm"
        if backend not in ("vllm", "transformers"):
            raise MonkeysError(f"unknown reward backend {backend!r}; choose vllm, transformers or auto")
        labels = int(cfg.num_labels or 1)
        self.label = label if label is not None else (0 if labels == 1 else labels - 1)
        if not 0 <= self.label < labels:
            raise MonkeysError(f"--label {self.label} is out of range: model {model!r} has {labels} label(s)")
        self.labels = labels
        self.model = model
        self.backend = backend
        self.max_length = max_length or int(cfg.to_dict().get("max_position_embeddings") or 4096)
        self.batch_tokens = batch_tokens
        self.options = {
            "backend": backend,
            "label": self.label,
            "activation": "sigmoid" if labels == 1 else "softmax",
        }
        self._tok: Any = None
        self._net: Any = None

    def ids(self, items: Sequence[ScoreItem]) -> list[list[int]]:
        if self._tok is None:
            self._tok = tokenizer(self.model)
        out = []
        for it in items:
            ids = chat_ids(self._tok, question_of(it.problem), it.text)
            out.append(ids[-self.max_length :])  # an over-long exchange keeps its end: the final answer
        return out

    def score(self, items: Sequence[ScoreItem]) -> list[float]:
        ids = self.ids(items)
        return self._vllm(ids) if self.backend == "vllm" else self._transformers(ids)

    # -- backends ------------------------------------------------------------------------------------
    def _vllm(self, ids: list[list[int]]) -> list[float]:
        from vllm.inputs import TokensPrompt

        if self._net is None:
            self._net = vllm_llm(self.model, runner="pooling", max_model_len=self.max_length)
        outs = self._net.classify([TokensPrompt(prompt_token_ids=i) for i in ids], use_tqdm=False)
        return [float(o.outputs.probs[self.label]) for o in outs]

    def _transformers(self, ids: list[list[int]]) -> list[float]:
        import torch

        if self._net is None:
            from transformers import AutoModelForSequenceClassification

            self._net = AutoModelForSequenceClassification.from_pretrained(
                model_path(self.model), dtype=torch.float32
            ).eval()
        pad = self._net.config.pad_token_id
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        out = [math.nan] * len(ids)
        start = 0
        while start < len(order):
            # a batch of similar lengths within the token budget; one at a time when the model has no pad
            end = start + 1
            while (
                pad is not None
                and end < len(order)
                and (end - start + 1) * len(ids[order[end]]) <= self.batch_tokens
            ):
                end += 1
            part = [ids[i] for i in order[start:end]]
            width = max(len(p) for p in part)
            inp = torch.tensor([p + [pad if pad is not None else 0] * (width - len(p)) for p in part])
            mask = torch.tensor([[1] * len(p) + [0] * (width - len(p)) for p in part])
            with torch.inference_mode():
                logits = self._net(input_ids=inp, attention_mask=mask).logits.float()
            probs = torch.sigmoid(logits) if self.labels == 1 else torch.softmax(logits, dim=-1)
            for i, p in zip(order[start:end], probs[:, self.label].tolist(), strict=True):
                out[i] = float(p)
            start = end
        return out


SCORERS.add("reward", RewardScorer)
