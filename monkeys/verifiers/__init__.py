"""verifiers"""

import monkeys.verifiers.gsm8k  # noqa: F401  (answer verifiers register themselves)
import monkeys.verifiers.math  # noqa: F401
from monkeys.verifiers import code_python_tests, code_stdio  # noqa: F401  (code verifiers register themselves)
