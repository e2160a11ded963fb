"""`judge`: a generative model asked whether a solution is correct; the score is P(yes) from its logprobs.

The prompt template (an option; `{question}` and `{answer}` are filled in) goes in as the user turn of the
judge's chat template, and the assistant turn is prefilled (default "Answer:") so that the next token is
" yes" or " no". The score is P(yes) / (P(yes) + P(no)) of that one token (`normalize=False`: P(yes) alone).
Both words must be single tokens of the judge's tokenizer, or the logprobs would not be the answer's.
Backends: in-process vLLM (`logprob_token_ids` gives the two exact logprobs) or any OpenAI-compatible
server through the `openai` client (`base_url`), which returns the top `top_logprobs` tokens: a word outside
them counts as probability 0, and a sample where neither appears gets no score.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any

from monkeys.errors import MonkeysError
from monkeys.scorers.backends import chat_text, tokenizer, vllm_llm
from monkeys.scorers.base import SCORERS, ScoreItem, Scorer, question_of

TEMPLATE = (
    "Here is a math problem and a proposed solution.\n\nProblem:\n{question}\n\nProposed solution:\n{answer}\n\n"
    "Is the proposed solution correct? Reply with yes or no."
)
PREFILL = "Answer:"
TOP_LOGPROBS = 20


def single_token(tok: Any, word: str, model: str) -> int:
    """The one token id of `word`, or a one-line error naming the judge whose tokenizer splits it."""
    ids = tok(word, add_special_tokens=False)["input_ids"]
    if len(ids) != 1:
        raise MonkeysError(
            f"judge {model!r} has no single token for {word!r} (it splits into {len(ids)}); "
            "pass --yes/--no words that are one token each, or another judge model"
        )
    return int(ids[0])


class JudgeScorer(Scorer):
    """P(yes) of a generative judge, from in-process vLLM or an OpenAI-compatible server."""

    name = "judge"
    version = "1"

    def __init__(
        self,
        model: str,
        engine: str = "vllm",
        base_url: str | None = None,
        template: str = TEMPLATE,
        prefill: str = PREFILL,
        yes: str = " yes",
        no: str = " no",
        normalize: bool = True,
        tokenizer_name: str | None = None,
    ) -> None:
        if not model:
            raise MonkeysError("--scorer judge needs --model (the judge model)")
        if "{question}" not in template or "{answer}" not in template:
            raise MonkeysError("the judge template must contain {question} and {answer}; fix --template")
        if engine not in ("vllm", "openai"):
            raise MonkeysError(f"unknown judge engine {engine!r}; choose vllm or openai")
        if engine == "openai" and not base_url:
            raise MonkeysError("--engine openai needs --base-url (e.g. http://127.0.0.1:8000/v1)")
        self.model, self.engine, self.base_url = model, engine, base_url
        self.template, self.prefill, self.normalize = template, prefill, normalize
        self.tok = tokenizer(tokenizer_name or model)
        self.yes_id = single_token(self.tok, yes, model)
        self.no_id = single_token(self.tok, no, model)
        self.yes, self.no = yes, no
        self.options = {
            "engine": engine,
            "template": template,
            "prefill": prefill,
            "yes": yes,
            "no": no,
            "normalize": normalize,
        }
        self._llm: Any = None
        self._client: Any = None
        self.unscored = 0  # openai backend: samples where neither word was among the top logprobs

    def prompt(self, item: ScoreItem) -> str:
        body = self.template.replace("{question}", question_of(item.problem)).replace("{answer}", item.text)
        return chat_text(self.tok, body, None, self.prefill)

    def _combine(self, lp_yes: float, lp_no: float) -> float:
        py, pn = math.exp(lp_yes), math.exp(lp_no)
        if not self.normalize:
            return py
        return py / (py + pn) if py + pn > 0 else math.nan

    def score(self, items: Sequence[ScoreItem]) -> list[float]:
        prompts = [self.prompt(it) for it in items]
        return self._vllm(prompts) if self.engine == "vllm" else self._openai(prompts)

    def _vllm(self, prompts: list[str]) -> list[float]:
        import vllm
        from vllm.inputs import TokensPrompt

        if self._llm is None:
            self._llm = vllm_llm(self.model)
        ids = [
            TokensPrompt(prompt_token_ids=self.tok(p, add_special_tokens=False)["input_ids"]) for p in prompts
        ]
        params = vllm.SamplingParams(
            max_tokens=1, temperature=0.0, logprob_token_ids=[self.yes_id, self.no_id]
        )
        out = []
        for o in self._llm.generate(ids, params, use_tqdm=False):
            lp = o.outputs[0].logprobs[0]
            out.append(self._combine(lp[self.yes_id].logprob, lp[self.no_id].logprob))
        return out

    def _openai(self, prompts: list[str]) -> list[float]:
        if self._client is None:
            import openai

            self._client = openai.OpenAI(
                base_url=self.base_url, api_key=os.environ.get("OPENAI_API_KEY", "none")
            )
        out = []
        for p in prompts:
            r = self._client.completions.create(
                model=self.model, prompt=p, max_tokens=1, temperature=0.0, logprobs=TOP_LOGPROBS
            )
            top = (r.choices[0].logprobs.top_logprobs or [{}])[0] if r.choices[0].logprobs else {}
            if self.yes not in top and self.no not in top:
                self.unscored += 1
                out.append(math.nan)
                continue
            out.append(self._combine(top.get(self.yes, -math.inf), top.get(self.no, -math.inf)))
        return out


SCORERS.add("judge", JudgeScorer)
