"""Small synthetic run directories for the cost and report tests: chosen token counts and verdicts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from monkeys.store import Run
from monkeys.store.schema import SAMPLES, VERDICTS


def make_run(
    path: Path,
    problems: dict[str, dict[str, Any]],
    model: str = "m",
    task: str = "gsm8k",
    sessions: list[dict[str, Any]] | None = None,
) -> Path:
    """`problems` maps a problem id to {"prompt_tokens": P, "tokens": [T...], "passed": [bool...],
    optional "texts", "answers", "cached_prompt_tokens" (one count, or one per sample)}; token counts None
    leave them out, as an import without them does."""
    manifest: dict[str, Any] = {
        "task": {"name": task, "default_verifier": "gsm8k", "options": {}},
        "model": model,
        "sampling": {"temperature": 0.6, "top_p": 1.0, "max_tokens": 64, "stop": []},
        "seed": 0,
        "engine": {"name": "fake", "version": "0"},
    }
    if sessions is not None:
        manifest["sessions"] = sessions
    frame = pd.DataFrame(
        [{"problem_id": pid, "prompt": f"question {pid}?", "reference": "4"} for pid in problems]
    )
    run = Run.create(path, manifest, frame)
    samples: dict[str, list[Any]] = {name: [] for name in SAMPLES.names}
    verdicts: dict[str, list[Any]] = {name: [] for name in VERDICTS.names}
    for pid, spec in problems.items():
        for i, (t, ok) in enumerate(zip(spec["tokens"], spec["passed"], strict=True)):
            text = (spec.get("texts") or {}).get(i, f"answer {i} #### {4 if ok else 5}")
            samples["problem_id"].append(pid)
            samples["sample_index"].append(i)
            samples["text"].append(text)
            samples["prompt_tokens"].append(spec["prompt_tokens"])
            samples["completion_tokens"].append(t)
            samples["finish_reason"].append("stop")
            samples["cumulative_logprob"].append(-1.0 - i)
            samples["seed"].append(i)
            cached = spec.get("cached_prompt_tokens")
            samples["cached_prompt_tokens"].append(cached[i] if isinstance(cached, list) else cached)
            verdicts["problem_id"].append(pid)
            verdicts["sample_index"].append(i)
            verdicts["verifier"].append("gsm8k")
            verdicts["verifier_version"].append("2")
            verdicts["verdict"].append("pass" if ok else "fail")
            verdicts["answer"].append((spec.get("answers") or {}).get(i, "4" if ok else "5"))
            verdicts["detail"].append("correct" if ok else "wrong answer")
            verdicts["seconds"].append(0.001)
            verdicts["verifier_options"].append(None)
    with run.writer("samples") as t:
        t.append(pa.Table.from_pydict(samples, schema=SAMPLES))
    with run.writer("verdicts") as t:
        t.append(pa.Table.from_pydict(verdicts, schema=VERDICTS))
    return path
