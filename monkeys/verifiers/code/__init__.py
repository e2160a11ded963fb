"""Code verifiers: programs run against tests inside a sandbox (`python-tests`, `stdio`).

What a code job is lives here, not in the sandbox: `python_tests` runs the harness (`_harness.py`: the
program process, the tests process, the pass token) as a generic sandbox job's `main` and `companion` and
decides `pass` from the companion's report; `stdio` runs the program once per input and compares stdout.
"""

from monkeys.verifiers.code.base import CodeVerifier
from monkeys.verifiers.code.python_tests import PythonTestsVerifier
from monkeys.verifiers.code.stdio import StdioVerifier

__all__ = ["CodeVerifier", "PythonTestsVerifier", "StdioVerifier"]
