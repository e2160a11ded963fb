"""Grouping extracted answers into equivalence classes, for majority vote over samples."""

from __future__ import annotations

from collections.abc import Sequence

from monkeys.records import Problem
from monkeys.verifiers.base import JudgesEquivalence


def group_answers(verifier: JudgesEquivalence, problem: Problem, answers: Sequence[str | None]) -> list[int]:
    """A group id per answer: equal ids mean equivalent answers (by `verifier.same_answer`); None → -1.

    Identical strings are compared once; each distinct answer is compared with one representative of each
    group found so far, so the cost is (distinct answers) × (groups) comparisons. Ids are numbered in order
    of first appearance."""
    group_of: dict[str, int] = {}
    representatives: list[str] = []
    out: list[int] = []
    for a in answers:
        if a is None:
            out.append(-1)
            continue
        if a not in group_of:
            found = -1
            for gid, rep in enumerate(representatives):
                if verifier.same_answer(problem, rep, a):
                    found = gid
                    break
            if found < 0:
                found = len(representatives)
                representatives.append(a)
            group_of[a] = found
        out.append(group_of[a])
    return out
