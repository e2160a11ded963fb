"""`judge`: a generative model asked whether a solution is correct; the score is P(yes) from its logprobs.

The prompt template (an option; `{question}` and `{answer}` are filled in) goes in as the user turn of the
judge's chat template, and the assistant turn is prefilled (default "Answer:") so that the next token is
" yes" or " no". The score is P(yes) / (P(yes) + P(no)) of that one token (`normalize=False`: P(yes) alone).
Both words must be single tokens of the judge's tokenizer, or the logprobs would not be the answer's.
Backends: in-process vLLM (`logprob_token_ids` gives the two exact logprobs; prefix caching on, so the
template head and question that a problem's samples share are computed once) or any OpenAI-compatible server
through the `openai` client (`base_url`). Both are sent the same token ids. A vLLM server is asked for the
two exact logprobs too (its `logprob_token_ids` extension), so its scores match the in-process ones; a
server without that extension returns its top `top_logprobs` tokens instead: a word outside them counts as
probability 0, and a sample where neither appears gets no score.
"""

from __future__ import annotations

import math
import os
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from monkeys.errors import MonkeysError
from monkeys.scorers.backends import chat_text, model_path, vllm_llm
from monkeys.scorers.backends import tokenizer as load_tokenizer
from monkeys.scorers.base import SCORERS, ScoreItem, Scorer, question_of

TEMPLATE = (
    "Here is a math problem and a proposed solution.\n\nProblem:\n{question}\n\nProposed solution:\n{answer}\n\n"
    "Is the proposed solution correct? Reply with yes or no."
)
PREFILL = "Answer:"
TOP_LOGPROBS = 20
OPENAI_BATCH = 32  # prompts per completions request
BLOCK_SIZE = 32  # vLLM KV block: the prefix cache shares whole blocks (the CPU default 128 shares little)


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
        tokenizer: str | None = None,
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
        self.tok = load_tokenizer(tokenizer or model)
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
        self._exact: bool | None = None  # openai: whether the server takes logprob_token_ids
        self.unscored = 0  # openai backend: samples where neither word was among the top logprobs

    def prompt(self, item: ScoreItem) -> str:
        body = self.template.replace("{question}", question_of(item.problem)).replace("{answer}", item.text)
        return chat_text(self.tok, body, None, self.prefill)

    def _combine(self, lp_yes: float, lp_no: float) -> float:
        py, pn = math.exp(lp_yes), math.exp(lp_no)
        if not self.normalize:
            return py
        return py / (py + pn) if py + pn > 0 else math.nan

    def ids(self, item: ScoreItem) -> list[int]:
        return list(self.tok(self.prompt(item), add_special_tokens=False)["input_ids"])

    def score(self, items: Sequence[ScoreItem]) -> list[float]:
        # a problem's prompts go in together, so its shared prefix is computed once and then read from cache
        by_problem: dict[str, list[int]] = defaultdict(list)
        for i, it in enumerate(items):
            by_problem[it.problem.problem_id].append(i)
        order = [i for group in by_problem.values() for i in group]
        ids = [self.ids(items[i]) for i in order]
        got = self._vllm(ids) if self.engine == "vllm" else self._openai(ids)
        out = [math.nan] * len(items)
        for i, s in zip(order, got, strict=True):
            out[i] = s
        return out

    def _vllm(self, ids: list[list[int]]) -> list[float]:
        import vllm
        from vllm.inputs import TokensPrompt

        if self._llm is None:
            self._llm = vllm_llm(self.model, enable_prefix_caching=True, block_size=BLOCK_SIZE)
        params = vllm.SamplingParams(
            max_tokens=1, temperature=0.0, logprob_token_ids=[self.yes_id, self.no_id]
        )
        prompts = [TokensPrompt(prompt_token_ids=i) for i in ids]
        out = []
        for o in self._llm.generate(prompts, params, use_tqdm=False):
            lp = o.outputs[0].logprobs[0]
            out.append(self._combine(lp[self.yes_id].logprob, lp[self.no_id].logprob))
        return out

    def _openai(self, ids: list[list[int]]) -> list[float]:
        out: list[float] = []
        for start in range(0, len(ids), OPENAI_BATCH):
            part = ids[start : start + OPENAI_BATCH]
            got: list[float] = [math.nan] * len(part)
            for choice in self._complete(part).choices:
                lp = choice.logprobs
                top = (lp.top_logprobs or [None])[0] if lp else None
                got[choice.index] = self._from_top(top or {})
            out.extend(got)
        return out

    def _from_top(self, top: dict[str, float]) -> float:
        """The score from one position's returned logprobs, keyed `token_id:N` (exact) or by token text."""
        keys = (f"token_id:{self.yes_id}", f"token_id:{self.no_id}")
        if not any(k in top for k in keys):
            keys = (self.yes, self.no)
        if keys[0] not in top and keys[1] not in top:
            self.unscored += 1
            return math.nan
        return self._combine(top.get(keys[0], -math.inf), top.get(keys[1], -math.inf))

    def _complete(self, prompts: list[list[int]]) -> Any:
        """One completions request for `prompts` (token ids): first with vLLM's exact-logprob extension,
        then, if the server refuses it, with plain top logprobs from there on."""
        import openai

        if self._client is None:
            self._client = openai.OpenAI(
                base_url=self.base_url, api_key=os.environ.get("OPENAI_API_KEY", "none"), max_retries=3
            )
        served = model_path(self.model)  # the embedded model is served from its converted directory
        args: dict[str, Any] = {"model": served, "prompt": prompts, "max_tokens": 1, "temperature": 0.0}
        try:
            if self._exact is not False:
                try:
                    r = self._client.completions.create(
                        **args,
                        logprobs=1,
                        extra_body={
                            "logprob_token_ids": [self.yes_id, self.no_id],
                            "return_tokens_as_token_ids": True,
                        },
                    )
                    self._exact = True
                    return r
                except openai.BadRequestError:
                    if self._exact:  # it took the extension before: this is another problem
                        raise
                    self._exact = False
            return self._client.completions.create(**args, logprobs=TOP_LOGPROBS)
        except openai.APIConnectionError:
            raise MonkeysError(
                f"cannot reach the judge server at {self.base_url}; start it or fix --base-url"
            ) from None
        except openai.NotFoundError:
            raise MonkeysError(
                f"the server at {self.base_url} does not serve model {served!r}; pass the served name as --model"
            ) from None
        except openai.APIStatusError as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise MonkeysError(f"the judge server at {self.base_url} refused a request ({first})") from None


SCORERS.add("judge", JudgeScorer)
