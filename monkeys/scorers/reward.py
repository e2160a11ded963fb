"""`reward`: a sequence-classification reward model scores each (question, answer) exchange.

The exchange is written in the model's own chat template, as reward-model cards expect, and the score is
the classifier's output after its activation: sigmoid(reward) for one label (so scores lie in (0, 1) and can
weight votes, in the same order as the raw rewards), the chosen label's softmax probability for several.
Backends: vLLM's pooling runner (`LLM.classify`, the default) or transformers, both fed the same token
ids. A problem's many samples share its question, so the shared start of their exchanges is computed once:
vLLM's prefix cache (in blocks of `BLOCK_SIZE` tokens), and in transformers one forward pass over the shared
prefix whose key/value cache every suffix then attends to (decoder models only: an encoder sees the whole
exchange at once). Suffixes go in small batches of similar length, since on a CPU a big padded batch is
slower per token than a small one (bench/bench_score.py). Meaningful scores need a real reward model; a model made for
tests (e.g. from the embedded SmolLM2) only proves the plumbing.
"""

from __future__ import annotations

import copy
import inspect
import math
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from monkeys.errors import MonkeysError
from monkeys.scorers.backends import chat_ids, model_path, tokenizer, vllm_llm
from monkeys.scorers.base import SCORERS, ScoreItem, Scorer, question_of

CLASSIFIER_SUFFIXES = ("ForSequenceClassification", "ForRewardModel", "RewardModel")
BATCH_TOKENS = 1024  # padded tokens per transformers forward pass
BLOCK_SIZE = 32  # vLLM KV block: the prefix cache shares whole blocks (the CPU default 128 shares little)
MIN_SHARED = 16  # a shorter shared prefix is not worth its own forward pass


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
        self._causal = False  # transformers: whether a shared prefix may be computed once

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
        # a problem's exchanges go in together, so their shared prefix is computed once
        by_problem: dict[str, list[int]] = defaultdict(list)
        for i, it in enumerate(items):
            by_problem[it.problem.problem_id].append(i)
        out = [math.nan] * len(items)
        if self.backend == "vllm":
            order = [i for group in by_problem.values() for i in group]
            for i, s in zip(order, self._vllm([ids[i] for i in order]), strict=True):
                out[i] = s
            return out
        for group in by_problem.values():
            for i, s in zip(group, self._transformers([ids[i] for i in group]), strict=True):
                out[i] = s
        return out

    # -- backends ------------------------------------------------------------------------------------
    def _vllm(self, ids: list[list[int]]) -> list[float]:
        from vllm.inputs import TokensPrompt

        if self._net is None:
            self._net = vllm_llm(
                self.model,
                runner="pooling",
                max_model_len=self.max_length,
                enable_prefix_caching=True,
                block_size=BLOCK_SIZE,
            )
        outs = self._net.classify([TokensPrompt(prompt_token_ids=i) for i in ids], use_tqdm=False)
        return [float(o.outputs.probs[self.label]) for o in outs]

    def _load_transformers(self) -> None:
        import torch
        from transformers import AutoModelForSequenceClassification
        from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

        self._net = AutoModelForSequenceClassification.from_pretrained(
            model_path(self.model), dtype=torch.float32
        ).eval()
        cfg = self._net.config
        self._causal = (
            cfg.model_type in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES
            and not cfg.is_encoder_decoder
            and "past_key_values" in inspect.signature(self._net.forward).parameters
        )

    def _transformers(self, ids: list[list[int]]) -> list[float]:
        """Scores of one problem's exchanges: the prefix they all share once, then the suffixes on its cache."""
        import torch

        if self._net is None:
            self._load_transformers()
        shared = shared_prefix(ids) if self._causal and len(ids) > 1 else 0
        cache = None
        if shared >= MIN_SHARED:
            with torch.inference_mode():
                cache = self._net(input_ids=torch.tensor([ids[0][:shared]]), use_cache=True).past_key_values
        else:
            shared = 0
        rest = [i[shared:] for i in ids]
        pad = self._net.config.pad_token_id
        order = sorted(range(len(rest)), key=lambda i: len(rest[i]))
        out = [math.nan] * len(rest)
        start = 0
        while start < len(order):
            # a batch of similar lengths within the token budget; one at a time when the model has no pad
            end = start + 1
            while (
                pad is not None
                and end < len(order)
                and (end - start + 1) * (shared + len(rest[order[end]])) <= self.batch_tokens
            ):
                end += 1
            part = [rest[i] for i in order[start:end]]
            width = max(len(p) for p in part)
            inp = torch.tensor([p + [pad if pad is not None else 0] * (width - len(p)) for p in part])
            mask = torch.tensor([[1] * (shared + len(p)) + [0] * (width - len(p)) for p in part])
            kv = None
            if cache is not None:
                kv = copy.deepcopy(cache)  # the forward pass appends to it
                kv.batch_repeat_interleave(len(part))
            with torch.inference_mode():
                logits = self._net(input_ids=inp, attention_mask=mask, past_key_values=kv).logits.float()
            probs = torch.sigmoid(logits) if self.labels == 1 else torch.softmax(logits, dim=-1)
            for i, p in zip(order[start:end], probs[:, self.label].tolist(), strict=True):
                out[i] = float(p)
            start = end
        return out


def shared_prefix(ids: Sequence[Sequence[int]]) -> int:
    """How many leading tokens all of `ids` share, leaving every one at least its last token."""
    n = min(len(i) for i in ids) - 1
    first = ids[0]
    for other in ids[1:]:
        k = 0
        while k < n and other[k] == first[k]:
            k += 1
        n = k
    return max(n, 0)


SCORERS.add("reward", RewardScorer)
