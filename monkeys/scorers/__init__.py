"""Scores without an oracle: reward models, LLM judges and token logprobs, stored per sample in a run."""

from monkeys.scorers import judge, logprob, reward  # noqa: F401  (built-in scorers register themselves)
from monkeys.scorers.base import SCORERS, ScoreItem, Scorer, load_entry_points

__all__ = ["SCORERS", "ScoreItem", "Scorer", "load_entry_points"]
