"""A real, tiny reward model for tests and plumbing checks, built from the embedded SmolLM2.

It is SmolLM2 loaded as a sequence classifier with one label whose score row is the LM head's " Yes" row
minus its " No" row: its reward is the log-odds of " Yes" over " No" after the exchange. It proves that the
reward path runs (vLLM's pooling runner and transformers load it like any reward model); its scores mean
little. Meaningful scores need a real reward model.
"""

from __future__ import annotations

import json
from pathlib import Path


def build_yes_no_classifier(out: str | Path) -> Path:
    """Write the classifier to `out` (a directory) and return it; about 20 s on two cores."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer, LlamaForSequenceClassification

    from monkeys.sampler.embedded import model_dir

    src, out = model_dir(), Path(out)
    tok = AutoTokenizer.from_pretrained(src)
    yes = tok(" Yes", add_special_tokens=False)["input_ids"]
    no = tok(" No", add_special_tokens=False)["input_ids"]
    lm = AutoModelForCausalLM.from_pretrained(src, dtype=torch.float32)
    cfg = AutoConfig.from_pretrained(src)
    cfg.num_labels = 1
    cfg.architectures = ["LlamaForSequenceClassification"]
    cfg.tie_word_embeddings = False
    # pad with <|endoftext|>, which a chat exchange never ends in: transformers pools the last non-pad token
    # and vLLM the last token, so they agree only when no exchange ends in the pad token
    cfg.pad_token_id = tok.convert_tokens_to_ids("<|endoftext|>")
    model = LlamaForSequenceClassification(cfg)
    model.model.load_state_dict(lm.model.state_dict())
    w = lm.lm_head.weight.detach()
    with torch.no_grad():
        model.score.weight.copy_((w[yes[0]] - w[no[0]])[None])
    model.save_pretrained(out, safe_serialization=True)
    tok.save_pretrained(out)
    (out / "monkeys-toy.json").write_text(json.dumps({"made_from": str(src), "score": "' Yes' - ' No' row"}))
    return out
