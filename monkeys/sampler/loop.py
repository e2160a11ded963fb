"""The sampling loop: plan the missing requests, feed the engine, stream finished chunks to the store."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from monkeys.errors import MonkeysError, RunMismatchError
from monkeys.sampler.base import Completion, Engine, Request, SamplingParams
from monkeys.sampler.chat import apply_chat_template
from monkeys.sampler.device import describe_device
from monkeys.sampler.schedule import plan
from monkeys.store import Run
from monkeys.store.manifest import Manifest, TaskEntry
from monkeys.store.run import now_iso
from monkeys.store.schema import SAMPLES
from monkeys.store.shards import ShardBuffer
from monkeys.tasks.base import TASKS, Problem, TaskOptions


@dataclass(frozen=True)
class SampleConfig:
    """Everything that decides which samples a run holds. Compared with the manifest on resume."""

    task: str
    task_options: TaskOptions
    model: str
    k: int
    seed: int = 0
    chunk_size: int = 64
    sampling: SamplingParams = field(default_factory=SamplingParams)
    engine: str = "vllm"
    task_params: Mapping[str, Any] = field(default_factory=dict)  # the task plugin's own options (-T)
    engine_params: Mapping[str, Any] = field(default_factory=dict)  # the engine's own options (-E)

    def manifest(
        self, default_verifier: str, engine: dict[str, Any] | None = None, few_shot: bool = True
    ) -> Manifest:
        """The run's manifest; `engine` is the engine's own description, once it is built."""
        described: dict[str, Any] = {**(engine or {}), "name": self.engine}
        if self.engine_params:
            described["options"] = dict(self.engine_params)
        task = TaskEntry(
            self.task, default_verifier, self.task_options.manifest(few_shot), dict(self.task_params)
        )
        return Manifest(
            task, self.model, described, self.sampling.manifest(), self.k, self.seed, self.chunk_size
        )

    def identity(self, default_verifier: str, few_shot: bool = True) -> dict[str, Any]:
        """The manifest fields a resumed run must match (all but k, which may grow)."""
        return self.manifest(default_verifier, few_shot=few_shot).identity()


@dataclass
class SampleReport:
    run: Run
    requested: int  # samples asked of the engine in this call
    stored: int  # samples written in this call
    total: int  # samples the run holds now (up to k per problem)
    seconds: float
    generated_tokens: int


def _describe_difference(key: str, old: Any, new: Any) -> str | None:
    if isinstance(old, dict) and isinstance(new, dict):
        for sub in sorted(set(old) | set(new)):
            if sub in ("version", "build", "model_path", "settings"):
                continue  # engine details are recorded, not compared
            if key == "task.options" and sub == "n_shot" and sub not in new:
                continue  # runs of tasks without few-shot prompts recorded a meaningless n_shot before
            msg = _describe_difference(f"{key}.{sub}", old.get(sub), new.get(sub))
            if msg:
                return msg
        return None
    return None if old == new else f"{key} was {old!r}, the command asks for {new!r}"


def check_compatible(run: Run, identity: dict[str, Any]) -> None:
    """Refuse to add samples to a run made with other settings (never overwrite, never mix)."""
    manifest = run.manifest
    for key, value in identity.items():
        old = manifest.get(key)
        if key == "engine" and isinstance(old, dict):  # what an engine says about itself is not compared
            old = {k: v for k, v in old.items() if k in ("name", "options")}
        msg = _describe_difference(key, old, value)
        if msg:
            raise RunMismatchError(
                f"run dir {run.path} was made with different settings: {msg}; "
                f"repeat its settings (see {run.path}/manifest.json) or use a new --run"
            )


def problems_frame(problems: list[Problem]) -> pd.DataFrame:
    rows = [
        {"problem_id": p.problem_id, "prompt": p.prompt, "reference": p.reference, **p.fields}
        for p in problems
    ]
    return pd.DataFrame(rows)


def completion_rows(c: Completion) -> dict[str, list[Any]]:
    n = c.request.n
    return {
        "problem_id": [c.request.problem_id] * n,
        "sample_index": list(range(c.request.start_index, c.request.start_index + n)),
        "text": list(c.texts),
        "prompt_tokens": [c.prompt_tokens] * n,
        "completion_tokens": list(c.completion_tokens),
        "finish_reason": list(c.finish_reasons),
        "cumulative_logprob": list(c.cumulative_logprobs),
        "seed": [c.request.seed] * n,
        "cached_prompt_tokens": [c.cached_prompt_tokens] * n,
    }


def load_task(config: SampleConfig) -> tuple[list[Problem], str, tuple[str, ...], bool]:
    task = TASKS.create(config.task, **config.task_params)
    problems = task.load(config.task_options)
    if not problems:
        raise MonkeysError(f"task {config.task} selected no problems; check --limit/--offset/--problems")
    return problems, task.default_verifier, tuple(task.stop), task.few_shot


def sample(
    run_path: str,
    config: SampleConfig,
    make_engine: Callable[[], Engine],
    on_progress: Callable[[int, int], None] | None = None,
    flush_seconds: float = 2.0,
    on_plan: Callable[[int, int], None] | None = None,
) -> SampleReport:
    """Fill `run_path` up to k samples per problem; resumable and idempotent.

    `make_engine` is called only if there is work to do, after the run's settings have been checked.
    `on_plan(done, total)` is called once the work is known; `on_progress(samples, tokens)` after each
    finished request.
    """
    if config.k < 1:
        raise MonkeysError(f"-k must be at least 1, got {config.k}")
    if config.chunk_size < 1:
        raise MonkeysError(f"--chunk-size must be at least 1, got {config.chunk_size}")
    problems, default_verifier, _, few_shot = load_task(config)
    problems = apply_chat_template(config.model, problems)
    identity = config.identity(default_verifier, few_shot)
    t0 = time.monotonic()
    if Run.exists(run_path):
        run = Run.open(run_path)
        check_compatible(run, identity)
        if [p.problem_id for p in problems] != run.problem_ids():
            raise RunMismatchError(
                f"run dir {run_path} holds other problems than the command selects; "
                "repeat its --limit/--offset/--problems or use a new --run"
            )
    else:
        run = None
    stored = run.stored_indices() if run else {}
    todo = plan([p.problem_id for p in problems], config.k, config.chunk_size, config.seed, stored)
    need = sum(t.n for t in todo)
    if not todo:
        assert run is not None
        if config.k > run.manifest.get("k", 0):
            run.update_manifest(k=config.k)
        total = sum(int((v < config.k).sum()) for v in stored.values())
        return SampleReport(run, 0, 0, total, time.monotonic() - t0, 0)

    if on_plan:
        on_plan(config.k * len(problems) - need, config.k * len(problems))
    engine = make_engine()
    try:
        if run is None:
            run = Run.create(
                run_path,
                config.manifest(default_verifier, engine.describe(), few_shot).to_json(),
                problems_frame(problems),
            )
        elif config.k > run.manifest.get("k", 0):
            run.update_manifest(k=config.k)
        prompts = {p.problem_id: p.prompt for p in problems}
        requests = (Request(t.problem_id, prompts[t.problem_id], t.start_index, t.n, t.seed) for t in todo)
        tokens = 0
        session = {"started": now_iso(), "device": describe_device(engine.describe())}
        with run.writer("samples") as table:
            buffer = ShardBuffer(table.append, SAMPLES, flush_seconds)
            t_gen = time.monotonic()
            try:
                for completion in _guarded(engine.generate(requests, config.sampling)):
                    buffer.add(completion_rows(completion), completion.request.n)
                    made = sum(completion.completion_tokens)
                    tokens += made
                    if on_progress:
                        on_progress(completion.request.n, made)
            finally:
                buffer.flush()  # also on Ctrl-C: keep every finished request
                # wall time of this batch of requests, for measured cost (`monkeys cost`)
                session.update(
                    seconds=time.monotonic() - t_gen, samples=buffer.written, completion_tokens=tokens
                )
                run.update_manifest(sessions=[*run.manifest.get("sessions", []), session])
            table.compact()
        run.update_manifest()
    finally:
        engine.close()
    total = sum(int((v < config.k).sum()) for v in run.stored_indices().values())
    return SampleReport(run, need, buffer.written, total, time.monotonic() - t0, tokens)


def _guarded(it: Iterator[Completion]) -> Iterator[Completion]:
    """Re-raise engine failures (not our own errors or Ctrl-C) as one clear line."""
    try:
        yield from it
    except (MonkeysError, KeyboardInterrupt):
        raise
    except Exception as exc:
        raise MonkeysError(
            f"the engine failed while sampling ({type(exc).__name__}: {str(exc)[:300]}); "
            "finished samples are stored, rerun the same command to resume"
        ) from exc
