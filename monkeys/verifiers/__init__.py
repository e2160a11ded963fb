"""Verifiers: the seam (`base`), the answer and code verifiers that plug into it, the verify stage
(`stage`) and the sandbox runtime (`sandbox`). Importing the package registers the built-in verifiers."""

import monkeys.verifiers.answer.gsm8k  # noqa: F401  (answer verifiers register themselves)
import monkeys.verifiers.answer.math  # noqa: F401
from monkeys.verifiers.base import (
    VERIFIERS,
    ChecksBatch,
    ChecksExtract,
    JudgesEquivalence,
    Problem,
    Verdict,
    VerdictValue,
    Verifier,
)
from monkeys.verifiers.code import python_tests, stdio  # noqa: F401  (code verifiers register themselves)

__all__ = [
    "VERIFIERS",
    "ChecksBatch",
    "ChecksExtract",
    "JudgesEquivalence",
    "Problem",
    "Verdict",
    "VerdictValue",
    "Verifier",
]
