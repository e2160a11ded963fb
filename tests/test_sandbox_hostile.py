"""Hostile programs, each through both sandbox backends, graded by `python-tests`.

Every program tries to pass a test it does not honestly pass (or to hurt the host): where its attack would
work it defines the right function, where it fails it leaves a wrong one. For each we assert the verdict is
`fail` or `timeout` (never `pass`), the harness still grades an honest program right afterwards, the host's
files are as they were, and no sandbox process is left over beyond the warm pool.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from monkeys.tasks.base import Problem
from monkeys.verifiers.code.python_tests import PythonTestsVerifier
from monkeys.verifiers.code.stdio import StdioVerifier
from tests.test_sandbox_isolation import sandbox_uid_processes

GOOD = "def f(x):\n    return 2 * x\n"
WRONG = "def f(x):\n    return None\n"
PROBLEM = Problem(
    "hostile/0",
    "",
    GOOD,
    {
        "entry_point": "f",
        "test": "def check(candidate):\n    assert candidate(2) == 4\n    assert abs(candidate(5) - 10) < 1e-9\n",
    },
)
STEAL = """
import os
def _leak(n):
    n = n if isinstance(n, bytes) else str(n).encode()
    for fd in range(3, 256):
        try:
            os.write(fd, n)
        except OSError:
            pass
    os._exit(0)
"""

HOSTILE: dict[str, str] = {
    "fork_bomb": "import os\ndef f(x):\n    while True:\n        try:\n            os.fork()\n        except OSError:\n            pass\n",
    "memory_bomb": "def f(x):\n    hoard = []\n    while True:\n        hoard.append(bytearray(64 << 20))\n",
    "huge_allocation": "blob = bytearray(1 << 40)\n" + GOOD,
    "infinite_loop": "def f(x):\n    while True:\n        pass\n",
    "busy_threads": (
        "import threading\n"
        "def spin():\n    while True:\n        pass\n"
        "def f(x):\n    ts = [threading.Thread(target=spin) for _ in range(8)]\n"
        "    [t.start() for t in ts]\n    [t.join() for t in ts]\n    return 2 * x\n"
    ),
    "write_outside": (
        "ok = False\n"
        "for p in ('/usr/lib/pwned', '/etc/pwned', '{host}/pwned', '/work/pwned', '/pwned'):\n"
        "    try:\n        open(p, 'w').write('x')\n        ok = True\n    except OSError:\n        pass\n"
        "exec(GOOD if ok else WRONG)\n"
    ),
    "read_run_dir": ("try:\n    exec(open('{host}/samples.py').read())\nexcept OSError:\n    exec(WRONG)\n"),
    "host_secrets": (
        "import os\nfound = bool(os.environ.get('MONKEYS_TEST_SECRET'))\n"
        "for p in ('/etc/shadow', '/root/.bashrc', '/proc/1/environ', '/work/shared/data/humaneval/SOURCE.md'):\n"
        "    try:\n        open(p).read()\n        found = True\n    except OSError:\n        pass\n"
        "exec(GOOD if found else WRONG)\n"
    ),
    "network_loopback": (
        "import socket\ntry:\n    socket.create_connection(('127.0.0.1', {port}), timeout=0.5)\n    exec(GOOD)\n"
        "except OSError:\n    exec(WRONG)\n"
    ),
    "network_outside": (
        "import socket\ntry:\n    socket.create_connection(('1.1.1.1', 53), timeout=0.5)\n    exec(GOOD)\n"
        "except OSError:\n    exec(WRONG)\n"
    ),
    "kill_parent_then_pass": "import os\nos.kill(os.getppid(), 9)\n" + WRONG,
    "kill_everything_then_pass": "import os\ntry:\n    os.kill(-1, 9)\nexcept OSError:\n    pass\n" + WRONG,
    "stop_supervisor": "import os, signal\nos.kill(os.getppid(), signal.SIGSTOP)\n" + WRONG,
    "setrlimit_games": (
        "import resource\n"
        "for r in (resource.RLIMIT_CPU, resource.RLIMIT_AS, resource.RLIMIT_NPROC):\n"
        "    try:\n        resource.setrlimit(r, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))\n"
        "    except (ValueError, OSError):\n        pass\n"
        "def f(x):\n    while True:\n        pass\n"
    ),
    "enormous_stdout": "import sys\ndef f(x):\n    while True:\n        sys.stdout.write('x' * 65536)\n",
    "enormous_stderr": "import os\ndef f(x):\n    while True:\n        os.write(2, b'e' * 65536)\n",
    "close_stdout": "import os\nfor fd in range(0, 256):\n    try:\n        os.close(fd)\n    except OSError:\n        pass\n"
    + WRONG,
    "exit_zero_before_asserts": "import os\nos._exit(0)\n" + WRONG,
    "exit_zero_in_candidate": "import os\ndef f(x):\n    os._exit(0)\n",
    "fake_sys_exit": "import sys\nsys.exit = lambda *a: None\ndef f(x):\n    raise SystemExit(0)\n",
    "patch_builtins": (
        "import builtins\nbuiltins.abs = lambda x: 0\nbuiltins.AssertionError = type('Quiet', (Exception,), {{}})\n"
        "def f(x):\n    return 4 if x == 2 else 0\n"
    ),
    "always_equal_object": "class Yes:\n    def __eq__(self, other):\n        return True\ndef f(x):\n    return Yes()\n",
    "always_equal_int": "class Yes(int):\n    __module__ = 'builtins'\n    def __eq__(self, other):\n        return True\n"
    "def f(x):\n    return Yes(0)\n",
    "redefine_check": "def check(candidate):\n    pass\n" + WRONG,
    # below, an attack that gets its capability at all defines the right function: only the block fails it
    "frame_walk_nonce": STEAL
    + (
        "import sys\ndef hunt():\n    try:\n        fr = sys._getframe()\n    except Exception:\n"
        "        try:\n            raise KeyError\n        except KeyError as e:\n            fr = e.__traceback__.tb_frame\n"
        "    got = fr is not None\n"
        "    while fr is not None:\n        for v in list(fr.f_locals.values()):\n"
        "            if isinstance(v, dict) and v.get('nonce'):\n                _leak(v['nonce'])\n"
        "        fr = fr.f_back\n    return got\n"
        "try:\n    exec(GOOD if hunt() else WRONG)\nexcept Exception:\n    exec(WRONG)\n"
    ),
    "gc_nonce": STEAL
    + (
        "try:\n    import gc\n    for o in gc.get_objects():\n"
        "        if isinstance(o, dict) and o.get('nonce'):\n            _leak(o['nonce'])\n    exec(GOOD)\n"
        "except Exception:\n    exec(WRONG)\n"
    ),
    "proc_mem_symlink": (
        "import os\nexec(WRONG)\nfor path in ('/proc/self/mem', '/tmp/m', '/dev/fd/../mem'):\n    try:\n"
        "        if path == '/tmp/m':\n            os.symlink('/proc/self/mem', '/tmp/m')\n"
        "        open(path, 'rb').close()\n        exec(GOOD)\n    except Exception:\n        pass\n"
    ),
    "toctou_symlink_race": (
        "import os, threading\nexec(WRONG)\nopen('/tmp/plain', 'w').close()\nstop = False\n"
        "def flip():\n    while not stop:\n        for target in ('/tmp/plain', '/proc/self/mem'):\n"
        "            try:\n                os.replace('/tmp/plain', '/tmp/x') if target == '/tmp/plain' else None\n"
        "                os.symlink(target, '/tmp/y')\n                os.replace('/tmp/y', '/tmp/x')\n"
        "            except OSError:\n                pass\n"
        "t = threading.Thread(target=flip)\nt.start()\n"
        "for _ in range(2000):\n    try:\n        with open('/tmp/x', 'rb') as fh:\n"
        "            if os.path.realpath('/proc/self/fd/%d' % fh.fileno()).endswith('mem'):\n"
        "                exec(GOOD)\n    except Exception:\n        pass\nstop = True\nt.join()\n"
    ),
    "ctypes_memory": "try:\n    import ctypes\n    ctypes.string_at(id(1), 8)\n    exec(GOOD)\nexcept Exception:\n    exec(WRONG)\n",
    "ctypes_by_extension_loader": (
        "import glob, importlib.machinery, importlib.util\nexec(WRONG)\n"
        "for path in glob.glob('/usr/lib/python3*/lib-dynload/_ctypes*.so'):\n    try:\n"
        "        loader = importlib.machinery.ExtensionFileLoader('_ctypes', path)\n"
        "        loader.create_module(importlib.util.spec_from_file_location('_ctypes', path, loader=loader))\n"
        "        exec(GOOD)\n    except Exception:\n        pass\n"
    ),
    "settrace_skip_asserts": (
        "import sys\ndef tracer(frame, event, arg):\n    return tracer\n"
        "try:\n    sys.settrace(tracer)\n    exec(GOOD)\nexcept Exception:\n    exec(WRONG)\n"
    ),
    "subprocess_escape": (
        "import subprocess, os\nexec(WRONG)\nfor run in (lambda: subprocess.run(['python3', '-c', 'print(1)']),\n"
        "            lambda: os.system('true'), lambda: os.posix_spawn('/usr/bin/true', ['true'], {{}})):\n"
        "    try:\n        run()\n        exec(GOOD)\n    except Exception:\n        pass\n"
    ),
    "delete_files": (
        "import os, shutil\nshutil.rmtree('/usr', ignore_errors=True)\nshutil.rmtree('{host}', ignore_errors=True)\n"
        "for p in ('{host}/canary.txt', '/tmp'):\n    try:\n        os.remove(p)\n    except OSError:\n        pass\n"
        + WRONG
    ),
    "daemon_outlives_run": (
        "import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
        "        while True:\n            open('/tmp/daemon', 'a').write('x')\n            time.sleep(0.05)\n"
        "    os._exit(0)\n" + WRONG
    ),
    "audit_hook_override": (
        "import sys\nsys.addaudithook(lambda *a: None)\ntry:\n    sys._getframe().f_back\n    exec(GOOD)\n"
        "except Exception:\n    exec(WRONG)\n"
    ),
    "code_object_forging": (
        "import marshal\ndef g():\n    return 1\nexec(WRONG)\n"
        "for forge in (lambda: g.__code__.replace(co_code=g.__code__.co_code),\n"
        "              lambda: marshal.loads(marshal.dumps(g.__code__))):\n"
        "    try:\n        forge()\n        exec(GOOD)\n    except Exception:\n        pass\n"
    ),
}


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """A run directory and canary on the host, and a loopback listener, none of which a program may reach."""
    d = tmp_path_factory.mktemp("hostile")
    d.chmod(0o755)
    (d / "samples.py").write_text(GOOD)
    (d / "canary.txt").write_text("untouched")
    for f in d.iterdir():
        f.chmod(0o644)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            with contextlib.suppress(OSError):
                listener.accept()[0].close()

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    yield {"dir": d, "port": listener.getsockname()[1]}
    stop.set()
    t.join()
    listener.close()


@pytest.fixture(scope="module")
def verifier(backend: str) -> Iterator[PythonTestsVerifier]:  # noqa: F811
    v = PythonTestsVerifier(sandbox=backend, timeout=1.0, workers=1)
    assert v.check(PROBLEM, GOOD).verdict == "pass"
    yield v
    v.close()


def render(source: str, host: dict) -> str:
    body = source.replace("{host}", str(host["dir"])).replace("{port}", str(host["port"]))
    body = body.replace("{{}}", "{}")
    return f"GOOD = {GOOD!r}\nWRONG = {WRONG!r}\n" + body


def assert_host_intact(host: dict) -> None:
    d: Path = host["dir"]
    assert (d / "canary.txt").read_text() == "untouched"
    assert (d / "samples.py").read_text() == GOOD
    assert not (d / "pwned").exists()
    assert not Path("/work/pwned").exists() and not Path("/pwned").exists()
    assert Path("/usr/bin/python3").exists()


@pytest.mark.e2e
@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_program_never_passes(
    name: str, verifier: PythonTestsVerifier, host: dict, monkeypatch
) -> None:
    monkeypatch.setenv("MONKEYS_TEST_SECRET", "hunter2")
    baseline = len(sandbox_uid_processes())
    verdict = verifier.check(PROBLEM, render(HOSTILE[name], host))
    assert verdict.verdict in ("fail", "timeout"), verdict.detail
    assert verifier.check(PROBLEM, GOOD).verdict == "pass"  # the harness keeps grading
    assert_host_intact(host)
    assert len(sandbox_uid_processes()) <= max(baseline, 3)


@pytest.mark.e2e
def test_the_honest_control_does_pass(verifier: PythonTestsVerifier, host: dict) -> None:
    """The suite means something only if the same harness passes a right answer written the same way."""
    assert verifier.check(PROBLEM, render("exec(GOOD)\n", host)).verdict == "pass"


@pytest.mark.e2e
def test_files_and_daemons_do_not_carry_over_to_the_next_sample(
    verifier: PythonTestsVerifier, host: dict
) -> None:
    plant = render(
        "import os, time\nopen('/tmp/answer.py', 'w').write(GOOD)\nopen('/dev/shm/answer.py', 'w').write(GOOD)\n"
        "if os.fork() == 0:\n    os.setsid()\n    while True:\n        open('/tmp/answer.py', 'w').write(GOOD)\n"
        "        time.sleep(0.01)\n" + WRONG,
        host,
    )
    harvest = render(
        "import os\nfound = [p for p in ('/tmp/answer.py', '/dev/shm/answer.py') if os.path.exists(p)]\n"
        "others = [p for p in os.listdir('/proc') if p.isdigit() and int(p) not in (1, os.getpid(), os.getppid())]\n"
        "exec(open(found[0]).read() if found else WRONG)\n",
        host,
    )
    assert verifier.check(PROBLEM, plant).verdict == "fail"
    second = verifier.check(PROBLEM, harvest)
    assert second.verdict == "fail", second.detail
    assert verifier.check(PROBLEM, GOOD).verdict == "pass"


STDIO_PROBLEM = Problem(
    "hostile/stdio",
    "",
    "",
    {"tests": json.dumps([{"input": "1\n", "output": "424242\n"}, {"input": "2\n", "output": "848484\n"}])},
)
RIGHT_IF = "n = int(input())\nprint(n * 424242 if ok else 0)\n"
STDIO_HOSTILE: dict[str, str] = {
    "read_supervisor_memory": (
        "import os\ntry:\n    open(f'/proc/{os.getppid()}/mem', 'rb').close()\n    ok = True\n"
        "except OSError:\n    ok = False\n" + RIGHT_IF
    ),
    "write_to_supervisor_channel": (
        "import os\nok = False\nfor fd in range(0, 8):\n    try:\n"
        "        open(f'/proc/{os.getppid()}/fd/{fd}', 'wb').close()\n        ok = True\n    except OSError:\n"
        "        pass\n" + RIGHT_IF
    ),
    "ptrace_supervisor": (
        "import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\n"
        "ok = libc.ptrace(16, os.getppid(), 0, 0) == 0  # PTRACE_ATTACH\n" + RIGHT_IF
    ),
    "kill_supervisor_mid_tests": "import os\nn = int(input())\nprint(n * 424242 if n == 1 else 0)\nif n == 1:\n    os.kill(os.getppid(), 9)\n",
}


@pytest.fixture(scope="module")
def stdio_verifier(backend: str) -> Iterator[StdioVerifier]:  # noqa: F811
    v = StdioVerifier(sandbox=backend, timeout=1.0, workers=1)
    yield v
    v.close()


@pytest.mark.e2e
@pytest.mark.parametrize("name", sorted(STDIO_HOSTILE))
def test_hostile_stdio_program_cannot_reach_its_supervisor(name: str, stdio_verifier: StdioVerifier) -> None:
    verdict = stdio_verifier.check(STDIO_PROBLEM, f"```python\n{STDIO_HOSTILE[name]}```")
    assert verdict.verdict in ("fail", "timeout"), verdict.detail
    honest = stdio_verifier.check(STDIO_PROBLEM, f"```python\nok = True\n{RIGHT_IF}```")
    assert honest.verdict == "pass", honest.detail
