"""Verifiers: the seam (`base`), the answer and code verifiers that plug into it, the verify stage
(`stage`) and the sandbox runtime (`sandbox`). The built-in verifiers are known by name to `VERIFIERS`
and imported on first use."""

from monkeys.verifiers.base import (
    VERIFIERS,
    ChecksBatch,
    ChecksExtract,
    ChecksQuickly,
    JudgesEquivalence,
    Problem,
    StreamsBatch,
    Verdict,
    VerdictValue,
    Verifier,
)

__all__ = [
    "VERIFIERS",
    "ChecksBatch",
    "ChecksExtract",
    "ChecksQuickly",
    "JudgesEquivalence",
    "StreamsBatch",
    "Problem",
    "Verdict",
    "VerdictValue",
    "Verifier",
]
