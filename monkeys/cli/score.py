"""`monkeys score`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from monkeys.cli.app import app, console
from monkeys.errors import MonkeysError


def build_scorer(scorer: str, run_model: str | None, **opts: Any) -> Any:
    """Scorer `scorer` from the options given (None = the scorer's default); logprob defaults its model
    to the run's."""
    import inspect

    from monkeys.scorers import SCORERS, load_entry_points

    load_entry_points()
    factory = SCORERS.factory(scorer)
    if scorer == "logprob" and opts.get("model") is None:
        opts["model"] = run_model
    params = inspect.signature(factory).parameters
    unused = sorted(k for k, v in opts.items() if v is not None and k not in params)
    if unused:
        flags = ", ".join("--" + k.replace("_", "-") for k in unused)
        raise MonkeysError(f"--scorer {scorer} takes no {flags}; drop it")
    return factory(**{k: v for k, v in opts.items() if v is not None})


@app.command("score")
def score(
    run: Annotated[Path, typer.Option("--run", help="run directory")],
    scorer: Annotated[str, typer.Option("--scorer", help="reward | judge | logprob (or a plugin)")],
    model: Annotated[
        str | None, typer.Option("--model", help="reward model, judge model, or (logprob) the sampler's")
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", help="store the scores under this name (default: the scorer's)")
    ] = None,
    engine: Annotated[str | None, typer.Option("--engine", help="judge: vllm | openai")] = None,
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="judge with --engine openai: the server's /v1 URL")
    ] = None,
    backend: Annotated[
        str | None, typer.Option("--backend", help="reward: auto | vllm | transformers")
    ] = None,
    template: Annotated[
        str | None,
        typer.Option("--template", help="judge: prompt with {question} and {answer}, or @FILE holding it"),
    ] = None,
    tokenizer: Annotated[
        str | None,
        typer.Option("--tokenizer", help="judge: where to load its tokenizer when --model is a served name"),
    ] = None,
    prefill: Annotated[
        str | None, typer.Option("--prefill", help="judge: start of its reply before yes/no")
    ] = None,
    yes: Annotated[str | None, typer.Option("--yes", help="judge: the yes token (default ' yes')")] = None,
    no: Annotated[str | None, typer.Option("--no", help="judge: the no token (default ' no')")] = None,
    reduce: Annotated[str | None, typer.Option("--reduce", help="logprob: mean | sum")] = None,
    label: Annotated[int | None, typer.Option("--label", help="reward: which output label")] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", help="samples per scorer call")] = 64,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="neither read nor write the score cache")
    ] = False,
) -> None:
    """Give every sample a score (deduplicated by text, cached, resumable) and, where verdicts exist, say
    how well the score tells right from wrong."""
    from monkeys.analysis.votes import score_quality
    from monkeys.scorers.cache import ScoreCache
    from monkeys.scorers.stage import score_run
    from monkeys.store import Run

    r = Run.open(run)
    if template is not None and template.startswith("@"):
        try:
            template = Path(template[1:]).read_text()
        except OSError as exc:
            raise MonkeysError(f"cannot read --template {template[1:]}: {exc.strerror}") from None
    opts = {
        "model": model,
        "engine": engine,
        "base_url": base_url,
        "backend": backend,
        "template": template,
        "prefill": prefill,
        "tokenizer": tokenizer,
        "yes": yes,
        "no": no,
        "reduce": reduce,
        "label": label,
    }
    s = build_scorer(scorer, r.manifest.get("model"), **opts)
    cache = None if no_cache else ScoreCache()
    rep = score_run(r, s, name=name, cache=cache, batch_size=batch_size)
    console.print(
        f"score {rep.name} v{rep.version}{' (' + rep.model + ')' if rep.model else ''}: {rep.samples} samples, "
        f"{rep.already_done} already scored, {rep.scored} scored now ({rep.distinct} distinct texts, "
        f"{rep.cache_hits} of them from the cache, {rep.computed} computed) in {rep.seconds:.1f}s",
        highlight=False,
        soft_wrap=True,
        markup=False,
    )
    if rep.missing:
        console.print(
            f"{rep.missing} of the samples scored now got no score (stored as null): the scorer could not "
            "score them (a judge server whose top logprobs held neither word)",
            highlight=False,
            soft_wrap=True,
            markup=False,
        )
    q = score_quality(r, rep.name)
    if q is not None:
        console.print(
            f"as a verifier against {q['verifier']}: AUROC {_f(q['auroc'])} over {q['samples']} samples, "
            f"within-problem AUROC {_f(q['auroc_within'])} over {q['problems_mixed']} mixed problems; "
            f"precision of each problem's top-scored sample {_f(q['top1_precision'])}",
            highlight=False,
            soft_wrap=True,
            markup=False,
        )


def _f(x: float | None) -> str:
    return "-" if x is None or x != x else f"{x:.3f}"
