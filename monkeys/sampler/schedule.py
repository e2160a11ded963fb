"""Which requests a run still needs, and the seed of each.

Samples of a problem are laid on a grid of chunks of `chunk_size`; each missing stretch inside one grid
chunk becomes one request with `n` = its length. vLLM gives the j-th sample of a request with seed s the
seed s + j, so a request starting at sample index i gets seed base(problem) + i: every sample's effective
seed is base(problem) + sample_index, whatever the chunking, and a resumed run asks for exactly the
requests an uninterrupted one would have.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

SEED_BITS = 52  # bases stay below 2**52 so base + index fits a JSON-safe integer


def seed_base(run_seed: int, problem_id: str) -> int:
    """A per-problem seed base derived from the run seed; distinct problems get unrelated bases."""
    digest = hashlib.sha256(f"monkeys/v1/{run_seed}/{problem_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> (64 - SEED_BITS)


def request_seed(run_seed: int, problem_id: str, start_index: int) -> int:
    return seed_base(run_seed, problem_id) + start_index


@dataclass(frozen=True)
class Planned:
    problem_id: str
    start_index: int
    n: int
    seed: int


def missing_runs(present: np.ndarray, k: int, chunk_size: int) -> list[tuple[int, int]]:
    """(start, n) stretches of sample indices in [0, k) not in `present`, split at chunk boundaries."""
    have = np.zeros(k, dtype=bool)
    present = np.asarray(present, dtype=np.int64)
    have[present[(present >= 0) & (present < k)]] = True
    runs: list[tuple[int, int]] = []
    for lo in range(0, k, chunk_size):
        hi = min(lo + chunk_size, k)
        block = ~have[lo:hi]
        if not block.any():
            continue
        # boundaries of True stretches inside this chunk
        edges = np.flatnonzero(np.diff(np.concatenate(([False], block, [False])).astype(np.int8)))
        for s, e in zip(edges[::2], edges[1::2], strict=True):
            runs.append((lo + int(s), int(e - s)))
    return runs


def plan(
    problem_ids: Sequence[str],
    k: int,
    chunk_size: int,
    run_seed: int,
    stored: Mapping[str, np.ndarray] | None = None,
) -> list[Planned]:
    """Requests still needed, problem by problem (so a problem's requests share the prefix cache)."""
    stored = stored or {}
    empty = np.zeros(0, dtype=np.int64)
    out: list[Planned] = []
    for pid in problem_ids:
        base = seed_base(run_seed, pid)
        for start, n in missing_runs(stored.get(pid, empty), k, chunk_size):
            out.append(Planned(pid, start, n, base + start))
    return out
