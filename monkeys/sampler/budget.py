"""A `solve` run's budget in samples, generated tokens or dollars, turned into "samples I may still issue".

Samples are counted when issued, so a sample budget is never exceeded. Tokens and dollars are known only
when a chunk comes back, so the samples still in flight are charged at the mean cost per sample seen so
far (before any has come back: `max_tokens` tokens each, the most a sample can cost, or one sample
first where that would allow none; for dollars, one sample is drawn first to learn the prompt's price). The run stops issuing once the spend plus that
estimate reaches the budget, so it ends within about one in-flight window's estimation error of it; the
report gives the exact spend.

Dollars are priced as `monkeys cost` prices them (`analysis/cost.py`, `sample_dollars`): the first sample
of a problem pays its prompt at the input price, later ones at the cached-input price where the price file
gives one, plus completion tokens at the output price and the per-attempt fee.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from monkeys.analysis.cost import sample_dollars
from monkeys.analysis.model_config import Price
from monkeys.errors import MonkeysError

UNLIMITED = 1 << 62


@dataclass
class Budget:
    samples: int | None = None
    tokens: int | None = None
    dollars: float | None = None
    price: Price | None = None
    max_tokens: int = 512
    issued: int = 0  # samples issued (stored ones of a resumed run included)
    received: int = 0  # samples whose cost is known
    spent_tokens: int = 0  # completion tokens of the received samples
    spent_dollars: float = 0.0
    _priced: set[str] = field(default_factory=set)  # problems whose first sample paid the full prompt

    def __post_init__(self) -> None:
        for name, value in (("--budget", self.samples), ("--budget-tokens", self.tokens)):
            if value is not None and value < 0:
                raise MonkeysError(f"{name} must be at least 0, got {value}")
        if self.dollars is not None:
            if self.dollars < 0:
                raise MonkeysError(f"--budget-dollars must be at least 0, got {self.dollars}")
            if self.price is None:
                raise MonkeysError("--budget-dollars needs prices; pass --prices prices.yaml")

    @property
    def limited(self) -> bool:
        return self.samples is not None or self.tokens is not None or self.dollars is not None

    def charge(self, problem_id: str, prompt_tokens: int, completion_tokens: Sequence[int | None]) -> None:
        """Book what a returned chunk cost (a count the server did not report is charged as max_tokens)."""
        made = [self.max_tokens if t is None else int(t) for t in completion_tokens]
        self.received += len(made)
        self.spent_tokens += sum(made)
        if self.price is not None:
            first = problem_id not in self._priced
            self._priced.add(problem_id)
            self.spent_dollars += sum(
                sample_dollars(self.price, prompt_tokens, t, first and j == 0) for j, t in enumerate(made)
            )

    def left(self) -> int:
        """Samples that may still be issued, every budget given taken into account."""
        left = UNLIMITED
        flying = self.issued - self.received
        if self.samples is not None:
            left = min(left, self.samples - self.issued)
        if self.tokens is not None:
            per = self.spent_tokens / self.received if self.received else float(self.max_tokens)
            room = _whole((self.tokens - self.spent_tokens) / max(per, 1.0)) - flying
            if not self.received and not flying and self.tokens > 0:
                room = max(room, 1)  # a budget below max_tokens: learn what a sample really costs first
            left = min(left, room)
        if self.dollars is not None:
            if not self.received:
                left = min(left, 0 if flying else 1)  # one sample first, to learn what one costs
            else:
                per = self.spent_dollars / self.received
                room = self.dollars - self.spent_dollars
                left = min(left, (_whole(room / per) if per > 0 else UNLIMITED) - flying)
        return max(left, 0)


def _whole(x: float) -> int:
    return int(min(x + 1e-9, UNLIMITED)) if x > 0 else 0  # 1e-9: 0.006 / 0.006 may come out 0.999...


__all__ = ["Budget"]
