"""Column schemas of the run store's tables. Field names match the records that cross the seams."""

from __future__ import annotations

import pyarrow as pa

SAMPLES = pa.schema(
    [
        pa.field("problem_id", pa.string(), nullable=False),
        pa.field("sample_index", pa.int64(), nullable=False),
        pa.field("text", pa.large_string()),
        pa.field("prompt_tokens", pa.int32()),
        pa.field("completion_tokens", pa.int32()),
        pa.field("finish_reason", pa.string()),
        pa.field("cumulative_logprob", pa.float64()),
        pa.field("seed", pa.int64()),
        # Of the request's prompt tokens, those the engine served from its prefix cache (the OpenAI usage
        # `prompt_tokens_details.cached_tokens`, vLLM's `num_cached_tokens`), repeated on each sample of the
        # request like prompt_tokens; null where the engine reports none and in shards written before.
        pa.field("cached_prompt_tokens", pa.int32()),
    ]
)

VERDICTS = pa.schema(
    [
        pa.field("problem_id", pa.string(), nullable=False),
        pa.field("sample_index", pa.int64(), nullable=False),
        pa.field("verifier", pa.string(), nullable=False),
        pa.field("verifier_version", pa.string(), nullable=False),
        pa.field("verdict", pa.string(), nullable=False),
        pa.field("answer", pa.large_string()),
        pa.field("detail", pa.large_string()),
        pa.field("seconds", pa.float64()),
        # The options the verdict set was made with, as canonical JSON (`monkeys.store.verdict_sets`);
        # null in shards written before options were recorded: those read as the verifier's defaults.
        pa.field("verifier_options", pa.string()),
    ]
)

SCORES = pa.schema(
    [
        pa.field("problem_id", pa.string(), nullable=False),
        pa.field("sample_index", pa.int64(), nullable=False),
        pa.field("scorer", pa.string(), nullable=False),
        pa.field("scorer_version", pa.string(), nullable=False),
        pa.field("score", pa.float64()),
        # added with `monkeys score`: shards written before read these as null
        pa.field("model", pa.string()),
        pa.field("options", pa.string()),  # the scorer's options as sorted JSON
    ]
)

TABLES: dict[str, pa.Schema] = {"samples": SAMPLES, "verdicts": VERDICTS, "scores": SCORES}

VERDICT_VALUES = ("pass", "fail", "timeout", "error")
