"""What the cost model needs to know about a model: its size (for FLOPs) and its prices (for dollars).

Sizes come from a model's own files (a local directory with `config.json`, and `*.safetensors` headers for
the exact parameter count), from the embedded model's converted directory, from the Hugging Face cache, or
from a price file entry (API models publish no config). Prices come only from the price file:

    gpt-4o:                       # the run's manifest `model`, or any name passed with --model-name
      input: 2.50                 # dollars per million input (prompt) tokens
      output: 10.00               # dollars per million output (completion) tokens
      cached_input: 1.25          # optional: dollars per million prompt tokens served from a prompt cache
      per_attempt: 0.0            # optional: dollars per sample on top of tokens (agent scaffolds, tools)
      parameters: 8.0e9           # optional: model size for FLOPs, with layers and width
      layers: 32
      width: 4096
"""

from __future__ import annotations

import contextlib
import json
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monkeys.errors import MonkeysError

DTYPE_OF_INDEX = {"F32": 4, "F16": 2, "BF16": 2, "F64": 8, "I8": 1, "U8": 1, "F8_E4M3": 1, "F8_E5M2": 1}


@dataclass(frozen=True)
class ModelSize:
    """N (parameters), layers and hidden width: what FLOPs ≈ 2·(N + 2·layers·width·L) per token needs."""

    parameters: float
    layers: int
    width: int
    source: str  # where the numbers came from, for the report

    def manifest(self) -> dict[str, Any]:
        return {
            "parameters": self.parameters,
            "layers": self.layers,
            "width": self.width,
            "source": self.source,
        }


@dataclass(frozen=True)
class Price:
    """Dollars per million tokens (and per attempt) for one model."""

    input: float
    output: float
    cached_input: float | None = None
    per_attempt: float = 0.0

    def manifest(self) -> dict[str, Any]:
        return {
            "input_per_m": self.input,
            "output_per_m": self.output,
            "cached_input_per_m": self.cached_input,
            "per_attempt": self.per_attempt,
        }


# -- sizes from model files -------------------------------------------------------------------------------
def safetensors_parameters(directory: Path) -> int | None:
    """Exact parameter count from the headers of the directory's safetensors files (no tensor is read)."""
    files = sorted(directory.glob("*.safetensors"))
    if not files:
        return None
    total = 0
    for f in files:
        with open(f, "rb") as fh:
            (size,) = struct.unpack("<Q", fh.read(8))
            header = json.loads(fh.read(size))
        for name, entry in header.items():
            if name == "__metadata__":
                continue
            count = 1
            for dim in entry["shape"]:
                count *= int(dim)
            total += count
    return total


def config_parameters(cfg: dict[str, Any]) -> int:
    """Parameters of a decoder-only transformer from its config: embeddings, attention (with grouped
    key/value heads), a gated or plain MLP and norms. An estimate where an architecture adds more."""
    d = int(cfg["hidden_size"])
    layers = int(cfg["num_hidden_layers"])
    vocab = int(cfg.get("vocab_size", 0))
    heads = int(cfg.get("num_attention_heads", 1))
    head_dim = int(cfg.get("head_dim") or d // heads)
    kv = int(cfg.get("num_key_value_heads") or heads)
    ff = int(cfg.get("intermediate_size") or 4 * d)
    gated = cfg.get("hidden_act", "gelu") in ("silu", "swiglu", "geglu") or "llama" in str(
        cfg.get("model_type", "")
    )
    attn = d * heads * head_dim * 2 + d * kv * head_dim * 2
    mlp = (3 if gated else 2) * d * ff
    embed = vocab * d * (1 if cfg.get("tie_word_embeddings", True) else 2)
    return embed + layers * (attn + mlp + 2 * d) + d


def size_from_dir(directory: Path) -> ModelSize:
    cfg_path = directory / "config.json"
    if not cfg_path.is_file():
        raise MonkeysError(
            f"{directory} holds no config.json; pass a model directory or give the model's "
            "parameters/layers/width in the price file (or --parameters/--layers/--width)"
        )
    cfg = json.loads(cfg_path.read_text())
    cfg = cfg.get("text_config", cfg)  # multimodal configs nest the language model's
    try:
        layers = int(cfg.get("num_hidden_layers") or cfg["n_layer"])
        width = int(cfg.get("hidden_size") or cfg["n_embd"])
    except KeyError as exc:
        raise MonkeysError(
            f"{cfg_path} names no {exc.args[0]}; give the model's layers/width in the price file"
        ) from None
    exact = safetensors_parameters(directory)
    if exact is not None:
        return ModelSize(float(exact), layers, width, f"{directory} (config.json, safetensors headers)")
    cfg = {**cfg, "num_hidden_layers": layers, "hidden_size": width}
    return ModelSize(
        float(config_parameters(cfg)), layers, width, f"{directory} (config.json; parameters estimated)"
    )


def _hub_dir(model: str) -> Path | None:
    """The model's snapshot in the local Hugging Face cache, if it was downloaded before (no network)."""
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(model, local_files_only=True, allow_patterns=["config.json", "*.json"]))
    except Exception:
        return None


def model_size(
    model: str, prices: dict[str, dict[str, Any]] | None = None, override: ModelSize | None = None
) -> ModelSize:
    """The size of `model`: an explicit override, the price file's entry, the embedded model's converted
    directory, a local directory, or the local hub cache, in that order."""
    if override is not None:
        return override
    entry = (prices or {}).get(model) or {}
    if all(key in entry for key in ("parameters", "layers", "width")):
        return ModelSize(float(entry["parameters"]), int(entry["layers"]), int(entry["width"]), "price file")
    from monkeys.sampler.embedded import DEFAULT_MODEL

    if model == DEFAULT_MODEL:
        from monkeys.sampler.embedded import model_dir

        return size_from_dir(model_dir())
    if os.path.isdir(model):
        return size_from_dir(Path(model))
    cached = _hub_dir(model)
    if cached is not None and (cached / "config.json").is_file():
        return size_from_dir(cached)
    raise MonkeysError(
        f"unknown model config for {model!r} (not a local directory nor in the Hugging Face cache); add "
        "parameters, layers and width for it to the price file, or pass --parameters --layers --width"
    )


# -- price files ------------------------------------------------------------------------------------------
def read_prices(path: str | Path) -> dict[str, dict[str, Any]]:
    """The price file as {model: entry}; every number is checked here so a typo fails with its model named."""
    import yaml

    p = Path(path)
    try:
        doc = yaml.safe_load(p.read_text())
    except OSError as exc:
        raise MonkeysError(f"cannot read price file {p}: {exc.strerror}; check --prices") from None
    except yaml.YAMLError as exc:
        raise MonkeysError(f"price file {p} is not valid YAML ({str(exc).splitlines()[0]}); fix it") from None
    if not isinstance(doc, dict):
        raise MonkeysError(
            f"price file {p} must map model names to entries (model: {{input: ..., output: ...}})"
        )
    out: dict[str, dict[str, Any]] = {}
    for model, entry in doc.items():
        if not isinstance(entry, dict):
            raise MonkeysError(
                f"price file {p}: entry {model!r} must be a mapping with input and output prices"
            )
        for key, value in entry.items():
            if key not in ("input", "output", "cached_input", "per_attempt", "parameters", "layers", "width"):
                raise MonkeysError(
                    f"price file {p}: {model!r} has unknown key {key!r}; use input, output, cached_input, "
                    "per_attempt, parameters, layers, width"
                )
            if isinstance(value, str):  # YAML 1.1 reads 7.0e10 (no sign in the exponent) as a string
                with contextlib.suppress(ValueError):
                    value = entry[key] = float(value)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                raise MonkeysError(f"price file {p}: {model}.{key} must be a number >= 0, got {value!r}")
        out[str(model)] = entry
    return out


def price_for(model: str, prices: dict[str, dict[str, Any]], source: str = "the price file") -> Price:
    entry = prices.get(model)
    if entry is None or "input" not in entry or "output" not in entry:
        known = ", ".join(sorted(prices)) or "none"
        what = "has no entry" if entry is None else "lacks input or output prices"
        raise MonkeysError(
            f"{source} {what} for model {model!r} (it has: {known}); add `{model}: {{input: $/M, output: $/M}}`"
        )
    return Price(
        float(entry["input"]),
        float(entry["output"]),
        None if entry.get("cached_input") is None else float(entry["cached_input"]),
        float(entry.get("per_attempt", 0.0)),
    )
