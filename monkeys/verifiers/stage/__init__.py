"""The verify stage: the runner, its worker pool, dedup, the verdict cache and canaries."""

from monkeys.verifiers.stage.cache import VerdictCache
from monkeys.verifiers.stage.runner import VerifyReport, make_verifier, verify_run

__all__ = ["VerdictCache", "VerifyReport", "make_verifier", "verify_run"]
