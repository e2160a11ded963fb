"""Answer verifiers: final answers of GSM8K and MATH, extracted and compared for equivalence."""

from monkeys.verifiers.answer.grouping import group_answers
from monkeys.verifiers.answer.gsm8k import GSM8KVerifier
from monkeys.verifiers.answer.math import MathVerifier

__all__ = ["GSM8KVerifier", "MathVerifier", "group_answers"]
