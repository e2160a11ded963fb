"""Sampling: engines behind one small interface, and the loop that fills a run with samples."""

from monkeys.sampler import (
    openai_engine,  # noqa: F401  (registers the openai engine; openai loads lazily)
    vllm_engine,  # noqa: F401  (registers the vLLM engine; vllm itself loads lazily)
)
from monkeys.sampler.base import ENGINES, Completion, Engine, Request, SamplingParams
from monkeys.sampler.loop import SampleConfig, SampleReport, sample
from monkeys.sampler.progress import run_sampling

__all__ = [
    "ENGINES",
    "Completion",
    "Engine",
    "Request",
    "SampleConfig",
    "SampleReport",
    "SamplingParams",
    "run_sampling",
    "sample",
]
