"""The verifier seam: the whole contract the verify stage relies on, written down as types.

A verifier subclasses `Verifier` and implements its three required methods. Optional abilities are named
capability classes the runner dispatches on with `isinstance` (never by probing attributes):

- `ChecksExtract`: the verdict of an already-extracted answer (`check_extract`); with `runs_inline = True`
  the runner checks in its own process on the extract itself, skipping a second extraction.
- `ChecksQuickly`: a verdict for an extract when one is certain in microseconds without any chance of a hang
  (`quick_check`, e.g. exact arithmetic on plain numbers), None when the check needs the killable worker
  pool; the runner asks in its own process first and sends only the rest to the pool.
- `ChecksBatch`: grades many (problem, completion) pairs at once (`check_batch`), e.g. on warm sandboxes;
  the runner hands it deduplicated work instead of using its own worker pool.
- `StreamsBatch`: a `ChecksBatch` that yields each verdict as its check ends (`iter_batch`), so a killed run
  keeps what slow checks already did.
- `JudgesEquivalence`: whether two answers are the same (`same_answer`), for majority vote in `select`.

Plain settings with defaults on the base: `runs_inline` (microsecond checks that cannot hang run in the
runner's process), `preload` (modules the worker pool's fork server imports once), `warm_up()` (lazy set-up
done before the first timed check), `close()`.

A verdict fails closed: anything that is not a clean, positive check is `fail`, `timeout` or `error`,
never `pass`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from typing import ClassVar

from monkeys.records import Problem, Verdict, VerdictValue
from monkeys.registry import Registry


class Verifier(ABC):
    """Grades one completion of one problem. `version` changes whenever the grading logic changes.

    Construction arguments are the verifier's options (`-V key=value` on the command line, typed by the
    factory's signature); the ones that shape verdicts are recorded with every verdict set.
    """

    name: ClassVar[str]
    version: ClassVar[str]
    runs_inline: ClassVar[bool] = False
    preload: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def extract(self, problem: Problem, completion: str) -> str | None:
        """The final answer (or program) the completion states; None when it states none. Samples of one
        problem with the same extract are checked once."""

    @abstractmethod
    def check(self, problem: Problem, completion: str) -> Verdict:
        """The verdict of one completion."""

    @abstractmethod
    def gold_completion(self, problem: Problem) -> str:
        """A completion that must pass (the canary); "" when the problem has none to offer."""

    def warm_up(self) -> None:  # noqa: B027  (an optional hook: doing nothing is the default)
        """Lazy initialisation, run before the first timed check (the worker pool calls it)."""

    def close(self) -> None:  # noqa: B027
        """Release what the verifier holds (sandboxes, pools)."""


class ChecksExtract(Verifier):
    """Capability: the verdict of an extract alone, without the completion it came from."""

    @abstractmethod
    def check_extract(self, problem: Problem, answer: str | None) -> Verdict: ...


class ChecksQuickly(Verifier):
    """Capability: the verdict `check` would give, for an extract that can be decided in microseconds by
    code that cannot hang (no SymPy, no subprocess); None when it cannot. The verdict (value, answer and
    detail) must be exactly `check`'s: the runner uses it in place of a pooled check."""

    @abstractmethod
    def quick_check(self, problem: Problem, answer: str | None) -> Verdict | None: ...


class ChecksBatch(Verifier):
    """Capability: many checks at once; must return one verdict per item, in order."""

    @abstractmethod
    def check_batch(self, items: Sequence[tuple[Problem, str]]) -> list[Verdict]: ...


class StreamsBatch(ChecksBatch):
    """Capability: a batch whose verdicts come as each check ends, (index, verdict) in any order, so the
    verify stage saves them on its 2 s clock while slow checks (sandboxed programs) still run."""

    @abstractmethod
    def iter_batch(self, items: Sequence[tuple[Problem, str]]) -> Iterator[tuple[int, Verdict]]: ...


class JudgesEquivalence(Verifier):
    """Capability: answer equivalence, for grouping answers in majority vote."""

    @abstractmethod
    def same_answer(self, problem: Problem, a: str, b: str) -> bool: ...


BUILT_IN = {
    "gsm8k": "monkeys.verifiers.answer.gsm8k:GSM8KVerifier",
    "math": "monkeys.verifiers.answer.math:MathVerifier",
    "python-tests": "monkeys.verifiers.code.python_tests:PythonTestsVerifier",
    "stdio": "monkeys.verifiers.code.stdio:StdioVerifier",
    "lean": "monkeys.verifiers.lean.verifier:LeanVerifier",
}  # imported on first use, so loading one verifier (or a LaTeX helper) does not load them all
VERIFIERS: Registry[Verifier] = Registry("verifier", group="monkeys.verifiers", base=Verifier, lazy=BUILT_IN)

__all__ = [
    "VERIFIERS",
    "ChecksBatch",
    "ChecksExtract",
    "ChecksQuickly",
    "JudgesEquivalence",
    "Problem",
    "StreamsBatch",
    "Verdict",
    "VerdictValue",
    "Verifier",
]
