"""verifiers"""

import monkeys.verifiers.answer.gsm8k  # noqa: F401  (answer verifiers register themselves)
import monkeys.verifiers.answer.math  # noqa: F401
import monkeys.verifiers.lean.verifier  # noqa: F401  (the lean verifier registers itself; Lean runs lazily)
from monkeys.verifiers.code import python_tests, stdio  # noqa: F401  (code verifiers register themselves)
