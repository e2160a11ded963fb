"""Grade (problem, completion) pairs on one warm sandbox, in order, from a separate host process.

`python -m tests.sandbox_driver BACKEND VERIFIER < items.json` prints one JSON list of [verdict, reason].
The forgery tests run it as root and, under `setpriv`, as an ordinary user, so the sandbox's host side
really runs unprivileged.
"""

from __future__ import annotations

import json
import sys

from monkeys.records import Problem
from monkeys.verifiers.code.python_tests import PythonTestsVerifier
from monkeys.verifiers.code.stdio import StdioVerifier


def main() -> None:
    backend, kind = sys.argv[1], sys.argv[2]
    items = [(Problem(**p), c) for p, c in json.load(sys.stdin)]
    cls = PythonTestsVerifier if kind == "python-tests" else StdioVerifier
    v = cls(sandbox=backend, timeout=3.0, workers=1)
    try:
        out = [[x.verdict, (x.detail or "").splitlines()[0]] for x in v.check_batch(items)]
    finally:
        v.close()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
