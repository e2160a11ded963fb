"""The model's own chat template, for tasks whose problems ask for it (the jsonl task's `template: chat`)."""

from __future__ import annotations

from dataclasses import replace

from monkeys.errors import MonkeysError
from monkeys.records import Problem


def model_path(model: str) -> str:
    from monkeys.sampler.embedded import DEFAULT_MODEL, model_dir

    return str(model_dir()) if model == DEFAULT_MODEL else model


def apply_chat_template(model: str, problems: list[Problem]) -> list[Problem]:
    """Problems marked `chat` get their prompt as the user's message in the model's chat template, with the
    assistant's turn opened; the others are returned as they are."""
    if not any(p.fields.get("chat") for p in problems):
        return problems
    try:
        from transformers import AutoTokenizer
    except ImportError:
        raise MonkeysError("template `chat` needs transformers: pip install transformers") from None
    try:
        tok = AutoTokenizer.from_pretrained(model_path(model))
    except (OSError, ValueError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise MonkeysError(
            f"cannot load the tokenizer of {model!r} for its chat template ({first})"
        ) from None
    if not tok.chat_template:
        raise MonkeysError(
            f"model {model!r} has no chat template; give a --template with {{prompt}} for its prompt format"
        )
    out = []
    for p in problems:
        if not p.fields.get("chat"):
            out.append(p)
            continue
        text = tok.apply_chat_template(
            [{"role": "user", "content": p.prompt}], tokenize=False, add_generation_prompt=True
        )
        if tok.bos_token and text.startswith(tok.bos_token):
            text = text[len(tok.bos_token) :]  # the engine's tokenizer adds it again
        out.append(replace(p, prompt=text))
    return out
