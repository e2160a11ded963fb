"""verifiers"""

from monkeys.verifiers import gsm8k, math  # noqa: F401  (answer verifiers register themselves)
