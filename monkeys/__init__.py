"""monkeys: inference-time repeated sampling, verification and coverage scaling."""

__version__ = "0.1.0"
