"""Code verifiers: programs run against tests inside a sandbox (`python-tests`, `stdio`)."""

from monkeys.verifiers.code.base import CodeVerifier
from monkeys.verifiers.code.python_tests import PythonTestsVerifier
from monkeys.verifiers.code.stdio import StdioVerifier

__all__ = ["CodeVerifier", "PythonTestsVerifier", "StdioVerifier"]
