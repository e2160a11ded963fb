"""The sandbox is a general execution facility: it imports nothing of the verifiers, knows no job kinds,
and runs any program with files, stdin, environment, arguments, a command, or a trusted main and companion.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from monkeys.verifiers.sandbox import Call, Job, Limits, create_sandbox

ROOT = Path(__file__).resolve().parent.parent
SANDBOX = ROOT / "monkeys" / "verifiers" / "sandbox"


def imported_modules(path: Path) -> set[str]:
    """Every module a file names in an import statement (relative imports resolved to absolute names)."""
    names = set()
    package = "monkeys.verifiers.sandbox"
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + [base])
            names.add(base.strip("."))
    return names


def test_the_sandbox_package_imports_nothing_of_the_verifiers() -> None:
    files = sorted(SANDBOX.glob("*.py"))
    assert len(files) >= 6
    bad = {
        f.name: sorted(
            m
            for m in imported_modules(f)
            if m.startswith("monkeys.verifiers") and not m.startswith("monkeys.verifiers.sandbox")
        )
        for f in files
    }
    assert {k: v for k, v in bad.items() if v} == {}


def test_loading_every_sandbox_module_loads_no_verifier() -> None:
    """At run time too: beyond the `monkeys.verifiers` package itself (the parent Python must import
    first), importing the sandbox loads no other part of the verifiers."""
    modules = [
        f"monkeys.verifiers.sandbox.{f.stem}" for f in SANDBOX.glob("*.py") if not f.stem.startswith("_")
    ]
    code = (
        "import sys, monkeys.verifiers\n"
        "before = set(sys.modules)\n"
        f"for m in {modules!r}:\n    __import__(m)\n"
        "print(sorted(m for m in set(sys.modules) - before if m.startswith('monkeys.verifiers')"
        " and not m.startswith('monkeys.verifiers.sandbox')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"


def test_the_supervisor_knows_no_job_kind_or_pass_signal() -> None:
    """What a python-tests job is (its tests, entry point, pass token) lives in verifiers/code/."""
    for f in SANDBOX.glob("*.py"):
        text = f.read_text()
        for word in ("PASS_TOKEN", "entry_point", "wanted_names", "run_tests", '"kind"', '"stdio"'):
            assert word not in text, f"{f.name} mentions {word}"


def test_a_job_refuses_paths_outside_its_directory_and_unknown_modules() -> None:
    with pytest.raises(ValueError, match="relative path"):
        Job("", files={"../x": ""})
    with pytest.raises(ValueError, match="relative path"):
        Job("", files={"/etc/x": ""})
    with pytest.raises(ValueError, match="not among the job's modules"):
        Job("", main=Call("nowhere:f"))
    with pytest.raises(ValueError, match="at least one stdin"):
        Job("", inputs=())


# a generic pair: the program's process sends what `answer()` returns; the companion reports it doubled
PAIR = (
    (
        "pair",
        "import os, socket\n"
        "def main(program, args, channel):\n"
        "    ns = {'__name__': 'program'}\n"
        "    exec(program, ns)\n"
        "    socket.socket(fileno=channel).sendall(str(ns['answer']()).encode() + b'\\n')\n"
        "    return 0\n"
        "def companion(args, channel, report):\n"
        "    got = socket.socket(fileno=channel).makefile().readline().strip()\n"
        "    os.write(report, (args['prefix'] + str(2 * int(got))).encode())\n"
        "    return 0\n",
    ),
)
SPRAY = (
    "import os\nfor fd in range(4, 256):  # every fd but its own channel (3)\n    try:\n        os.write(fd, b'forged')\n    except OSError:\n"
    "        pass\n"
)


@pytest.mark.e2e
def test_files_stdin_env_argv_and_commands_reach_the_program(backend: str) -> None:
    sb = create_sandbox(backend)
    try:
        (py,) = sb.run(
            Job(
                "import os, sys\nprint(open('data/a.txt').read(), os.environ['WHO'], sys.argv, input())",
                Limits(),
                inputs=("stdin here\n",),
                files={"data/a.txt": "file here"},
                env={"WHO": "env here"},
                argv=("arg",),
                filename="prog.py",
            )
        )
        runs = sb.run(
            Job(
                "",
                Limits(),
                inputs=("a\n", "b\n"),
                command=("/bin/sh", "-c", "echo $WHO; cat; exit 3"),
                env={"WHO": "sh"},
            )
        )
        (missing,) = sb.run(Job("", Limits(), command=("/no/such/binary",)))
        (left,) = sb.run(Job("import os\nprint(sorted(os.listdir('.')))", Limits()))
    finally:
        sb.close()
    assert py.exit_code == 0 and py.stdout == "file here env here ['prog.py', 'arg'] stdin here\n", py
    assert [(r.index, r.exit_code, r.stdout) for r in runs] == [(0, 3, "sh\na\n"), (1, 3, "sh\nb\n")]
    assert missing.exit_code == 127 and "/no/such/binary" in missing.stderr
    assert left.stdout == "[]\n"  # the last job's files are gone


@pytest.mark.e2e
def test_only_the_companion_writes_the_report(backend: str) -> None:
    sb = create_sandbox(backend)
    job = Job(
        "def answer():\n    return 21\n",
        Limits(),
        inputs=("", ""),
        modules=PAIR,
        main=Call("pair:main"),
        companion=Call("pair:companion", {"prefix": "doubled "}),
    )
    try:
        honest = sb.run(job)
        (forged,) = sb.run(
            Job(
                SPRAY + "def answer():\n    return 1\n",
                Limits(),
                modules=PAIR,
                main=Call("pair:main"),
                companion=Call("pair:companion", {"prefix": ""}),
            )
        )
        (plain,) = sb.run(Job("print('no modules now')", Limits()))  # another module set: a fresh worker
        again, _ = sb.run(job)
    finally:
        sb.close()
    assert [(r.exit_code, r.report) for r in honest] == [(0, "doubled 42"), (0, "doubled 42")]
    assert forged.report == "2" and "forged" not in forged.stdout + forged.stderr
    assert plain.stdout == "no modules now\n" and plain.report == ""
    assert again.report == "doubled 42"
