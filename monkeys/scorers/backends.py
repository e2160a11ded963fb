"""Loading the models scorers run: a model path or name (`embedded` for the shipped SmolLM2), its tokenizer,
and an in-process vLLM built with the sampler's CPU settings."""

from __future__ import annotations

from typing import Any

from monkeys.errors import MonkeysError

EMBEDDED = ("embedded", "embedded:smollm2-135m-instruct")


def model_path(model: str) -> str:
    """Where to load `model` from: the converted embedded model, or the path / hub name as given."""
    if model in EMBEDDED:
        from monkeys.sampler.embedded import model_dir

        return str(model_dir())
    return model


def tokenizer(model: str) -> Any:
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(model_path(model))
    except (OSError, ValueError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise MonkeysError(f"cannot load the tokenizer of {model!r} ({first}); check --model") from None


def vllm_llm(model: str, enable_prefix_caching: bool = False, **kwargs: Any) -> Any:
    """A `vllm.LLM` for `model`, with the settings the sampler uses on this machine (CPU or GPU)."""
    from monkeys.sampler.vllm_engine import VLLMEngine

    return VLLMEngine(model_path(model), enable_prefix_caching=enable_prefix_caching, **kwargs).llm


def chat_ids(tok: Any, question: str, answer: str) -> list[int]:
    """Token ids of a (question, answer) exchange in the model's chat template (without one, a plain
    "Question: ... Answer: ..." text)."""
    special = not tok.chat_template  # a chat template writes its own special tokens
    return list(tok(chat_text(tok, question, answer), add_special_tokens=special)["input_ids"])


def chat_text(tok: Any, question: str, answer: str | None, prefill: str = "") -> str:
    """The exchange as text; with `answer` None, an open assistant turn that starts with `prefill`."""
    if tok.chat_template:
        msgs = [{"role": "user", "content": question}]
        if answer is not None:
            msgs.append({"role": "assistant", "content": answer})
        return tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=answer is None) + prefill
    return f"Question: {question}\nAnswer: {answer if answer is not None else prefill}"
