"""Canaries: before grading a run, the verifier must pass each problem's gold completion and fail an
empty completion. A verifier that cannot do that (wrong task, unparseable references, a broken sandbox)
would produce silently wrong coverage, so the run is refused with the problems named.

The canary checks are ordinary checks: they go through the same dedup, cache and worker pool as samples
(a gold answer usually shares its check with the samples that got it right).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from monkeys.errors import MonkeysError
from monkeys.records import Problem
from monkeys.verifiers.base import Verdict, Verifier
from monkeys.verifiers.stage.dedup import Group, group_key

SHOWN = 5


class Canaries:
    """The gold and empty checks of a set of problems, and the rule that judges their verdicts."""

    def __init__(self, verifier: Verifier, problems: Sequence[Problem]) -> None:
        self.verifier = verifier
        self.problems = list(problems)
        self.without_gold: list[str] = []  # problems whose gold canary was skipped (no gold completion)

    def groups(self) -> dict[tuple[str, Any], Group]:
        """Check groups (keyed like the runner's dedup groups) for every gold and empty completion."""
        from monkeys.verifiers.stage.dedup import Group

        v = self.verifier
        out: dict[tuple[str, Any], Group] = {}
        self.without_gold = []
        for p in self.problems:
            gold = v.gold_completion(p)
            if not gold:  # e.g. a CodeContests problem with no Python 3 solution: nothing to check it with
                self.without_gold.append(p.problem_id)
            for kind, text in (("gold", gold), ("empty", "")):
                if kind == "gold" and not gold:
                    continue
                x = v.extract(p, text)
                out[group_key(p.problem_id, x, text)] = Group(p.problem_id, x, text, canary=kind)
        return out

    def enforce(self, verdicts: Mapping[str, Verdict]) -> None:
        """`verdicts` maps "problem_id:gold" / "problem_id:empty" to the canary verdicts; raise when any is
        wrong (gold must pass, empty must fail)."""
        bad_gold = [
            (k.rsplit(":", 1)[0], v)
            for k, v in verdicts.items()
            if k.endswith(":gold") and v.verdict != "pass"
        ]
        bad_empty = [
            (k.rsplit(":", 1)[0], v)
            for k, v in verdicts.items()
            if k.endswith(":empty") and v.verdict != "fail"
        ]
        if not bad_gold and not bad_empty:
            return
        parts = []
        if bad_gold:
            shown = "; ".join(f"{pid} ({v.verdict}: {v.detail[:80]})" for pid, v in bad_gold[:SHOWN])
            more = f" and {len(bad_gold) - SHOWN} more" if len(bad_gold) > SHOWN else ""
            parts.append(f"the gold answer does not pass on {len(bad_gold)} problem(s): {shown}{more}")
        if bad_empty:
            shown = "; ".join(f"{pid} ({v.verdict}: {v.detail[:80]})" for pid, v in bad_empty[:SHOWN])
            more = f" and {len(bad_empty) - SHOWN} more" if len(bad_empty) > SHOWN else ""
            parts.append(f"an empty completion does not fail on {len(bad_empty)} problem(s): {shown}{more}")
        name = self.verifier.name
        raise MonkeysError(
            f"verifier {name} fails its canaries: {'; '.join(parts)}; check that --verifier suits this run's task "
            "and that the problems' references are right"
        )
