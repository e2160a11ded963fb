"""verifiers"""

from monkeys.verifiers import gsm8k, math  # noqa: F401  (answer verifiers register themselves)
from monkeys.verifiers import code_python_tests, code_stdio  # noqa: F401  (code verifiers register themselves)
