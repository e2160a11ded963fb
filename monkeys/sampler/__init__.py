"""Sampling: engines behind one small interface, and the loop that fills a run with samples."""

from monkeys.sampler import (
    openai_engine,  # noqa: F401  (registers the openai engine; openai loads lazily)
    vllm_engine,  # noqa: F401  (registers the vLLM engine; vllm itself loads lazily)
)
from monkeys.sampler.base import ENGINES, Completion, Engine, Request, SamplingParams
from monkeys.sampler.loop import SampleConfig, SampleReport, sample
from monkeys.sampler.progress import run_sampling
from monkeys.sampler.settings import PRESETS, default_run_dir, sample_config

__all__ = [
    "ENGINES",
    "PRESETS",
    "Completion",
    "Engine",
    "Request",
    "SampleConfig",
    "SampleReport",
    "SamplingParams",
    "default_run_dir",
    "run_sampling",
    "sample",
    "sample_config",
]
