"""What drawing k samples per problem costs: FLOPs, measured device-seconds and dollars, per run.

Every cost here is linear in k: problem p costs `prefix[p] + k * marginal[p]` for k >= 1 samples, where the
prefix is paid once per problem (a shared prompt prefill, a cached prompt) and the marginal cost is the mean
over the problem's drawn samples (so the estimate at k uses each sample's own token counts, never a
global average; drawing k of the n samples uniformly, the expected cost is exactly this).

FLOPs follow Brown et al. (2024, §2.3): a token at context length L costs 2·(N + 2·layers·width·L). The
token at position i of a sequence (0-based) has L = i tokens before it, so a sequence of m tokens costs

    F(m) = sum_{i<m} 2·(N + 2·l·d·i) = 2·N·m + 2·l·d·m·(m - 1)

With prefix sharing the prompt of P tokens is prefilled once per problem, F(P), and a completion of T
tokens adds F(P + T) - F(P) = 2·N·T + 2·l·d·(2·P·T + T² - T); so a problem needs only the sums of T and T²
over its samples. Without sharing every sample pays F(P + T).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from monkeys.analysis.model_config import ModelSize, Price
from monkeys.analysis.outcomes import Counts
from monkeys.errors import MonkeysError

AXES = ("samples", "flops", "seconds", "dollars")


@dataclass(frozen=True)
class Tokens:
    """Per-problem token statistics, aligned with a Counts' problems."""

    prompt: np.ndarray  # prompt tokens P per problem
    samples: np.ndarray  # samples with token counts per problem
    sum_t: np.ndarray  # sum of completion tokens T over the problem's samples
    sum_t2: np.ndarray  # sum of T² (the attention term grows with the square of the completion)
    estimated: bool = False  # counted from the texts with a tokenizer, not recorded by the engine
    # Sum over the problem's samples of the prompt tokens the engine served from its cache (the samples
    # table's cached_prompt_tokens); NaN for a problem where some sample has no such count. None: no sample
    # of the run has one (runs from before the column, engines that do not report it, imports).
    sum_cached: np.ndarray | None = None

    @property
    def mean_t(self) -> np.ndarray:
        return self.sum_t / self.samples

    @property
    def mean_t2(self) -> np.ndarray:
        return self.sum_t2 / self.samples


@dataclass(frozen=True)
class Axis:
    """A cost axis of one run: problem p costs prefix[p] + k * marginal[p] for k >= 1 samples."""

    name: str  # one of AXES, or "flops_no_sharing"
    label: str  # axis label with its unit
    prefix: np.ndarray
    marginal: np.ndarray
    notes: tuple[str, ...] = ()

    def at(self, k: np.ndarray | float) -> np.ndarray:
        """Total cost over all problems of k samples per problem."""
        k = np.asarray(k, dtype=np.float64)
        return np.where(k >= 1, self.prefix.sum() + k * self.marginal.sum(), 0.0)

    def k_at(self, cost: np.ndarray | float) -> np.ndarray:
        """The (fractional) k per problem that a total budget buys (inverse of `at`)."""
        return (np.asarray(cost, dtype=np.float64) - self.prefix.sum()) / self.marginal.sum()

    def drawn(self, n: np.ndarray) -> float:
        """What the samples actually drawn cost (n[p] samples of problem p)."""
        return float(self.prefix.sum() + (n * self.marginal).sum())


def sequence_flops(m: np.ndarray | float, size: ModelSize) -> np.ndarray:
    """F(m): forward FLOPs of a sequence of m tokens, each at its own context length (closed form)."""
    m = np.asarray(m, dtype=np.float64)
    return 2.0 * size.parameters * m + 2.0 * size.layers * size.width * m * (m - 1.0)


def flops_axes(tokens: Tokens, size: ModelSize) -> tuple[Axis, Axis]:
    """FLOPs with the prompt prefilled once per problem, and without prefix sharing (per sample)."""
    p, mean_t, mean_t2 = tokens.prompt.astype(np.float64), tokens.mean_t, tokens.mean_t2
    n_, ld = size.parameters, float(size.layers * size.width)
    decode = 2.0 * n_ * mean_t + 2.0 * ld * (2.0 * p * mean_t + mean_t2 - mean_t)
    prompt = sequence_flops(p, size)
    note = ("token counts estimated from the texts",) if tokens.estimated else ()
    shared = Axis("flops", "inference FLOPs", prompt, decode, note)
    unshared = Axis(
        "flops_no_sharing", "inference FLOPs (no prefix sharing)", np.zeros_like(p), prompt + decode, note
    )
    return shared, unshared


def prompt_rates(price: Price) -> tuple[float, float]:
    """Dollars per prompt token for a problem's first sample and for each later one (the cached-input price
    where one is given: the prompt is cached after the first)."""
    later = price.input if price.cached_input is None else price.cached_input
    return price.input * 1e-6, later * 1e-6


def sample_dollars(price: Price, prompt_tokens: float, completion_tokens: float, first: bool) -> float:
    """What one sample costs: its prompt (full price if it is the problem's first), completion, fee."""
    first_rate, later = prompt_rates(price)
    prompt = prompt_tokens * (first_rate if first else later)
    return prompt + completion_tokens * price.output * 1e-6 + price.per_attempt


def dollar_axis(tokens: Tokens, price: Price) -> Axis:
    """API dollars: every sample pays its prompt, its completion tokens and the per-attempt fee.

    With a cached-input price, a problem whose samples carry the engine's cached-prompt counts pays each
    sample's cached prompt tokens at that price and the rest at the input price: the bill of the samples
    drawn, exactly; a further sample is charged the problem's mean split. A problem without recorded counts
    is assumed to pay the full prompt price once and the cached price on every later sample (a server with
    a prompt cache, one problem's requests sent together)."""
    p, mean_t = tokens.prompt.astype(np.float64), tokens.mean_t
    first_rate, later = prompt_rates(price)  # the unmeasured rule, as `sample_dollars` charges it
    notes: list[str] = ["token counts estimated from the texts"] if tokens.estimated else []
    prefix = p * (first_rate - later)
    marginal = p * later
    if price.cached_input is not None and tokens.sum_cached is not None:
        measured = ~np.isnan(tokens.sum_cached)
        mean_c = np.where(measured, tokens.sum_cached, 0.0) / tokens.samples
        prefix = np.where(measured, 0.0, prefix)
        marginal = np.where(
            measured, (p - mean_c) * first_rate + mean_c * price.cached_input * 1e-6, marginal
        )
        notes.append(
            f"cached prompt tokens as the engine recorded them for {int(measured.sum())} of {len(p)} problems"
        )
    marginal = marginal + mean_t * price.output * 1e-6 + price.per_attempt
    return Axis("dollars", "dollars", prefix, marginal, tuple(notes))


@dataclass(frozen=True)
class Timing:
    """Measured engine time of a run, from the manifest's sampling sessions."""

    seconds: float  # wall seconds the engine spent generating
    samples: int  # samples generated in that time
    device_kind: str  # "gpu" or "cpu"
    device_count: int  # GPUs (or CPU cores) the engine used
    device_name: str

    @property
    def unit(self) -> str:
        return "GPU-seconds" if self.device_kind == "gpu" else "CPU core-seconds"

    @property
    def per_sample(self) -> float:
        return self.seconds * self.device_count / self.samples


def timing_from_manifest(manifest: dict[str, Any], source: str) -> Timing:
    """Sum the sessions `monkeys sample` recorded; one device kind per run (mixed ones are refused)."""
    sessions = [s for s in manifest.get("sessions") or [] if s.get("samples")]
    if not sessions:
        raise MonkeysError(
            f"run {source} has no measured sampling time (made before monkeys recorded it, or imported); "
            "drop the seconds axis for it or re-sample into a new --run"
        )
    kinds = {(s["device"]["kind"], s["device"]["name"], s["device"]["count"]) for s in sessions}
    if len(kinds) > 1:
        raise MonkeysError(
            f"run {source} was sampled on different devices ({sorted(kinds)}); compare its sessions separately"
        )
    kind, name, count = kinds.pop()
    return Timing(
        float(sum(s["seconds"] for s in sessions)),
        int(sum(s["samples"] for s in sessions)),
        kind,
        int(count),
        name,
    )


def seconds_axis(counts: Counts, timing: Timing) -> Axis:
    """Device-seconds: each sample is charged the run's measured mean (prefill sharing is inside it)."""
    p = np.zeros(counts.num_problems)
    return Axis(
        "seconds",
        f"{timing.unit} ({timing.device_count} x {timing.device_name})",
        p,
        np.full(counts.num_problems, timing.per_sample),
    )


def samples_axis(counts: Counts) -> Axis:
    """Samples per problem: k itself (prefix 0, marginal 1/problems so that `at(k) == k`)."""
    m = counts.num_problems
    return Axis("samples", "samples per problem (k)", np.zeros(m), np.full(m, 1.0 / m))


# -- token counts from the samples table ------------------------------------------------------------------
def tokens_from_frame(df: pd.DataFrame, counts: Counts, source: str, estimated: bool = False) -> Tokens:
    """Per-problem sums from sample rows (problem_id, prompt_tokens, completion_tokens and, where the frame
    has it, cached_prompt_tokens)."""
    missing = df["completion_tokens"].isna() | df["prompt_tokens"].isna()
    if missing.any():
        raise MonkeysError(
            f"run {source} has no token counts for {int(missing.sum())} of {len(df)} samples (imported without "
            "them?); pass --tokenizer DIR to count them from the texts, or use --axis samples"
        )
    t = df["completion_tokens"].to_numpy(np.float64)
    cached = (
        df["cached_prompt_tokens"].to_numpy(np.float64, na_value=np.nan)
        if "cached_prompt_tokens" in df
        else np.full(len(df), np.nan)
    )
    g = pd.DataFrame(
        {
            "problem_id": df["problem_id"].astype(str),
            "p": df["prompt_tokens"].to_numpy(np.float64),
            "t": t,
            "t2": t * t,
            "c": cached,
        }
    ).groupby("problem_id", sort=False)
    # NaN for a problem where any sample lacks a cached count: it falls back to the assumed split
    agg = g.agg(p=("p", "max"), n=("t", "size"), t=("t", "sum"), t2=("t2", "sum"))
    agg["c"] = g["c"].sum(min_count=1).where(g["c"].count() == agg["n"])
    absent = [p for p in counts.problems if p not in agg.index]
    if absent:
        raise MonkeysError(
            f"run {source} has verdicts but no samples for problem {absent[0]!r}; check the run"
        )
    agg = agg.loc[list(counts.problems)]
    return Tokens(
        agg["p"].to_numpy(),
        agg["n"].to_numpy(np.float64),
        agg["t"].to_numpy(),
        agg["t2"].to_numpy(),
        estimated,
        None if np.isnan(agg["c"].to_numpy(np.float64)).all() else agg["c"].to_numpy(np.float64),
    )


def count_tokens(texts: list[str], tokenizer_dir: str) -> np.ndarray:
    """Token counts of texts with a local tokenizer (for imported runs that carry none)."""
    try:
        from transformers import AutoTokenizer

        tok = AutoTokenizer.from_pretrained(tokenizer_dir, local_files_only=True)
    except Exception as exc:
        raise MonkeysError(
            f"cannot load a tokenizer from {tokenizer_dir} ({type(exc).__name__}); pass a directory with "
            "tokenizer.json"
        ) from None
    enc = tok(texts, add_special_tokens=False)["input_ids"]
    return np.array([len(e) for e in enc], dtype=np.int64)


@dataclass
class RunCost:
    """One run's counts with every cost axis that could be computed (and why the others could not)."""

    name: str
    task: str
    model: str
    counts: Counts
    axes: dict[str, Axis] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)  # axis -> the one-line reason
    size: ModelSize | None = None
    price: Price | None = None
    timing: Timing | None = None
    tokens: Tokens | None = None

    def summary(self) -> dict[str, Any]:
        """Totals as drawn: per axis the whole run, per sample, per solved problem; FLOPs saved by sharing."""
        n, solved = self.counts.n, int((self.counts.c > 0).sum())
        out: dict[str, Any] = {
            "task": self.task,
            "model": self.model,
            "problems": self.counts.num_problems,
            "samples": int(n.sum()),
            "solved_problems": solved,
            "axes": {},
            "unavailable": dict(self.unavailable),
        }
        for name, axis in self.axes.items():
            total = axis.drawn(n) if name != "samples" else float(n.sum())
            out["axes"][name] = {
                "label": axis.label,
                "total": total,
                "per_sample": total / float(n.sum()),
                "per_solved_problem": total / solved if solved else None,
                "notes": list(axis.notes),
            }
        if "flops" in self.axes and "flops_no_sharing" in self.axes:
            shared, unshared = self.axes["flops"].drawn(n), self.axes["flops_no_sharing"].drawn(n)
            out["prefix_sharing_saves"] = 1.0 - shared / unshared if unshared else None
        if self.size:
            out["model_size"] = self.size.manifest()
        if self.price:
            out["price"] = self.price.manifest()
        if self.timing:
            t = self.timing
            out["timing"] = {
                "seconds": t.seconds,
                "samples": t.samples,
                "device": {"kind": t.device_kind, "count": t.device_count, "name": t.device_name},
                "unit": t.unit,
            }
        if self.tokens is not None:
            cached = self.tokens.sum_cached
            out["tokens"] = {
                "prompt": int(self.tokens.prompt.sum()),
                "completion": int(self.tokens.sum_t.sum()),
                # over the problems whose every sample carries a count (None when no problem does)
                "cached_prompt": None if cached is None else int(np.nansum(cached)),
                "estimated": self.tokens.estimated,
            }
        return out
