from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from monkeys.sampler.schedule import missing_runs, plan, seed_base


def test_fresh_plan_is_the_chunk_grid() -> None:
    todo = plan(["p"], k=10, chunk_size=4, run_seed=0)
    assert [(t.start_index, t.n) for t in todo] == [(0, 4), (4, 4), (8, 2)]
    base = seed_base(0, "p")
    assert [t.seed for t in todo] == [base, base + 4, base + 8]


def test_resume_fills_only_missing_chunks() -> None:
    stored = {"p": np.array([0, 1, 2, 3, 8, 9])}
    todo = plan(["p", "q"], k=10, chunk_size=4, run_seed=0, stored=stored)
    assert [(t.problem_id, t.start_index, t.n) for t in todo] == [
        ("p", 4, 4),
        ("q", 0, 4),
        ("q", 4, 4),
        ("q", 8, 2),
    ]


def test_resumed_requests_equal_uninterrupted_ones() -> None:
    full = plan(["p", "q"], k=12, chunk_size=4, run_seed=3)
    done = {"p": np.arange(0, 8)}
    rest = plan(["p", "q"], k=12, chunk_size=4, run_seed=3, stored=done)
    assert set(rest) <= set(full)
    assert [t for t in full if not (t.problem_id == "p" and t.start_index < 8)] == rest


def test_extending_k_keeps_seed_of_each_sample_index() -> None:
    first = plan(["p"], k=6, chunk_size=4, run_seed=1)
    more = plan(["p"], k=12, chunk_size=4, run_seed=1, stored={"p": np.arange(6)})
    assert [(t.start_index, t.n) for t in more] == [(6, 2), (8, 4)]
    base = seed_base(1, "p")
    assert all(t.seed == base + t.start_index for t in first + more)


def test_seeds_differ_between_problems_and_run_seeds() -> None:
    assert seed_base(0, "a") != seed_base(0, "b")
    assert seed_base(0, "a") != seed_base(1, "a")
    assert seed_base(5, "x") == seed_base(5, "x")
    assert 0 <= seed_base(0, "a") < 2**52


@given(
    k=st.integers(1, 300),
    chunk=st.integers(1, 64),
    present=st.lists(st.integers(0, 400), max_size=200),
)
def test_missing_runs_cover_exactly_the_missing_indices(k: int, chunk: int, present: list[int]) -> None:
    runs = missing_runs(np.array(present, dtype=np.int64), k, chunk)
    covered = [i for s, n in runs for i in range(s, s + n)]
    assert covered == sorted(set(range(k)) - set(present))
    assert all(n <= chunk and s // chunk == (s + n - 1) // chunk for s, n in runs)
