"""The examples of docs/plugins.md are real code: each one runs and honours its seam."""

from __future__ import annotations

import re
from pathlib import Path

from monkeys.records import Problem, Request, SamplingParams
from monkeys.sampler.base import Engine
from monkeys.tasks.base import Task, TaskOptions
from monkeys.verifiers.base import ChecksExtract
from monkeys.verifiers.sandbox import Job, Limits, Sandbox

DOC = Path(__file__).resolve().parent.parent / "docs" / "plugins.md"


def examples() -> dict[str, object]:
    names: dict[str, object] = {}
    for block in re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S):
        if "class " in block:
            exec(compile(block, str(DOC), "exec"), names)  # noqa: S102  (our own documentation)
    return names


def test_every_documented_plugin_works() -> None:
    ns = examples()
    task, verifier, engine, sandbox = ns["EchoTask"], ns["EchoChecker"], ns["EchoEngine"], ns["TimeoutOnly"]
    assert issubclass(task, Task) and issubclass(verifier, ChecksExtract)
    assert issubclass(engine, Engine) and issubclass(sandbox, Sandbox)
    problems = task(n=2).load(TaskOptions())
    texts = next(engine().generate([Request("e1", problems[1].prompt, 0, 2, 0)], SamplingParams())).texts
    assert texts == ("it is 1", "it is nope")
    v = verifier()
    assert [v.check(problems[1], t).verdict for t in texts] == ["pass", "fail"]
    assert v.check(problems[0], v.gold_completion(problems[0])).passed
    runs = sandbox().run(Job("print(int(input()) * 2)", Limits(), inputs=("21\n", "x\n")))
    assert [r.stdout for r in runs] == ["42\n", ""] and runs[1].exit_code != 0
    assert isinstance(problems[0], Problem)
