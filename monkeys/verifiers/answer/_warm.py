"""Imported once by the worker pool's fork server (`MathVerifier.preload`): one LaTeX parse and one SymPy
comparison, so that every forked worker starts with the parser's and SymPy's lazy set-up already done
instead of paying for it (seconds on a busy machine) before its first check."""

from __future__ import annotations

import contextlib

from monkeys.verifiers.answer.math import MathVerifier

with contextlib.suppress(Exception):  # a failed warm-up only costs time; the worker warms up again
    MathVerifier().warm_up()
