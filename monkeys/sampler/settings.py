"""From what a caller asks for to a checked `SampleConfig`: presets, defaults, validation and run naming.

The CLI and the Python API (`monkeys.sample`) both come through here, so they behave the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from monkeys.errors import UsageError
from monkeys.records import SamplingParams
from monkeys.sampler.base import ENGINES
from monkeys.sampler.loop import SampleConfig
from monkeys.tasks import TASKS, TaskOptions

PRESETS: dict[str, dict[str, object]] = {
    # The paper's Appendix A settings for GSM8K and MATH: temperature 0.6, no nucleus sampling,
    # 512 new tokens, 5-shot prompts.
    "paper": {"temperature": 0.6, "top_p": 1.0, "max_tokens": 512, "n_shot": 5},
}
DEFAULTS: dict[str, object] = {"temperature": 0.6, "top_p": 1.0, "max_tokens": 512, "n_shot": 5}
DEFAULT_CHUNK = 64


def default_model() -> str:
    from monkeys.sampler.embedded import DEFAULT_MODEL

    return DEFAULT_MODEL


def default_run_dir(task: str, model: str) -> str:
    """`runs/<task>-<model>`, with the model's path separators made safe for one folder name."""
    return str(Path("runs") / f"{task}-{model.replace('/', '_').replace(':', '_')}")


def check_options(
    kind: str, registry: Any, name: str, options: Mapping[str, Any], flag: str
) -> dict[str, Any]:
    """Plugin options given as Python values: every key must be a parameter of the plugin's factory."""
    params = registry.parameters(name)
    for key in options:
        if key not in params:
            known = ", ".join(params) or "no options"
            raise UsageError(f"{kind} {name!r} has no option {key!r} ({flag}); it takes: {known}")
    return dict(options)


def sample_config(
    task: str,
    k: int,
    *,
    model: str | None = None,
    limit: int | None = None,
    offset: int = 0,
    problems: str | list[str] | tuple[str, ...] | None = None,
    data_dir: str | None = None,
    data: str | None = None,
    instruction: str | None = None,
    template: str | None = None,
    subset: str | None = None,
    temperature: float | None = None,
    top_p: float | None = None,
    max_tokens: int | None = None,
    n_shot: int | None = None,
    seed: int = 0,
    chunk_size: int = DEFAULT_CHUNK,
    preset: str | None = None,
    engine: str = "vllm",
    task_options: Mapping[str, Any] | None = None,
    engine_options: Mapping[str, Any] | None = None,
) -> SampleConfig:
    """A validated `SampleConfig`: explicit values beat the preset, the preset beats the defaults.

    `problems` is a list of ids or one comma-separated string. `task_options` / `engine_options` are the
    plugins' own construction options (`-T` / `-E`), recorded in the manifest."""
    if preset is not None and preset not in PRESETS:
        raise UsageError(f"unknown preset {preset!r}; choose one of: {', '.join(PRESETS)}")
    if engine not in ENGINES:
        raise UsageError(f"unknown engine {engine!r}; choose one of: {', '.join(ENGINES.names())}")
    if task not in TASKS:
        raise UsageError(f"unknown task {task!r}; choose one of: {', '.join(TASKS.names())}")
    if (instruction is not None or template is not None) and task != "jsonl":
        raise UsageError(
            f"--instruction and --template are for the jsonl task; task {task} builds its own prompts"
        )
    chosen = {**DEFAULTS, **PRESETS.get(preset or "", {})}
    for key, value in (
        ("temperature", temperature),
        ("top_p", top_p),
        ("max_tokens", max_tokens),
        ("n_shot", n_shot),
    ):
        if value is not None:
            chosen[key] = value
    if isinstance(problems, str):
        ids = tuple(x.strip() for x in problems.split(",") if x.strip())
    else:
        ids = tuple(str(x) for x in problems or ())
    t_opts = check_options("task", TASKS, task, task_options or {}, "-T")
    e_opts = check_options("engine", ENGINES, engine, engine_options or {}, "-E")
    e_opts.pop("model", None)  # the engine's model is --model
    options = TaskOptions(
        data_dir=data_dir,
        data_file=data,
        limit=limit,
        offset=offset,
        problem_ids=ids,
        seed=seed,
        n_shot=int(chosen["n_shot"]),  # type: ignore[call-overload]
        instruction=instruction,
        template=template,
        subset=subset,
    )
    stop = TASKS.create(task, **t_opts).stop
    params = SamplingParams(
        temperature=float(chosen["temperature"]),  # type: ignore[arg-type]
        top_p=float(chosen["top_p"]),  # type: ignore[arg-type]
        max_tokens=int(chosen["max_tokens"]),  # type: ignore[call-overload]
        stop=tuple(stop),
    )
    if params.temperature < 0 or not 0 < params.top_p <= 1 or params.max_tokens < 1:
        raise UsageError("need --temperature >= 0, 0 < --top-p <= 1 and --max-tokens >= 1")
    return SampleConfig(
        task,
        options,
        model or default_model(),
        k,
        seed,
        chunk_size,
        params,
        engine,
        task_params=t_opts,
        engine_params=e_opts,
    )


__all__ = ["DEFAULTS", "PRESETS", "check_options", "default_model", "default_run_dir", "sample_config"]
