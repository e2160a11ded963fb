"""Programs written against this harness to forge `pass`, or to change another sample's verdict.

Each runs through both backends with the sandbox's host process as root and as an ordinary user (under
`setpriv`), on one warm sandbox, interleaved with correct and wrong controls: no hostile program passes,
every correct control passes and every wrong control fails, whatever ran before it. Each attack leaves a
wrong function where it fails, so that only the attack itself could make it pass.
"""

from __future__ import annotations

import json
import os
import pwd
import subprocess
import sys
import sysconfig
import threading
from dataclasses import asdict
from pathlib import Path

import pytest

from monkeys.records import Problem
from monkeys.verifiers.sandbox import Job, Limits, create_sandbox
from tests.test_sandbox_isolation import sandbox_uid_processes

ROOT = Path(__file__).resolve().parent.parent
USER = "monkeys-test"
GOOD = "def f(x):\n    return 2 * x\n"
WRONG = "def f(x):\n    return 4 if x == 2 else 0\n"  # right on the first assert only
PROBLEM = Problem(
    "forgery/0",
    "",
    GOOD,
    {
        "entry_point": "f",
        "test": "def check(candidate):\n    assert candidate(2) == 4\n    assert abs(candidate(5) - 10) < 1e-9\n",
    },
)
# what a program would have to write, and where, to speak for the tests process or the supervisor
REACH = r"""
import os, json, struct
TOKEN = b"tests returned\n"
FRAME = json.dumps({"index": 0, "exit_code": 0, "signal": None, "timed_out": False, "output_exceeded": False,
                    "wall": 0.01, "cpu": 0.01, "stdout": "", "stderr": "", "report": TOKEN.decode()}).encode()
FRAME = struct.pack(">I", len(FRAME)) + FRAME + struct.pack(">I", 14) + b'{"end": true}'
def proc():
    root = os.open("/", os.O_RDONLY)
    return os.open("proc", os.O_RDONLY, dir_fd=root)  # past the /proc guard: a relative path
def pids():
    try:
        p = proc()
        return p, [n for n in os.listdir(p) if n.isdigit() and int(n) != os.getpid()]
    except OSError:
        return None, []
def spray(data):
    hits = 0
    for fd in range(0, 256):
        try:
            os.write(fd, data); hits += 1
        except OSError:
            pass
    p, ps = pids()
    for pid in ps:
        try:
            fds = os.listdir(os.open(pid + "/fd", os.O_RDONLY, dir_fd=p))
        except OSError:
            continue
        for n in fds:
            try:
                os.write(os.open(pid + "/fd/" + n, os.O_WRONLY, dir_fd=p), data); hits += 1
            except OSError:
                pass
    return hits
"""
ALWAYS = "class Yes:\n    def __eq__(self, o):\n        return True\n    __hash__ = None\n    def __sub__(self, o):\n        return 0\n"

HOSTILE: dict[str, str] = {
    # 1. reaching the pass signal from the program's process
    "spray_pass_token": REACH + "spray(TOKEN)\n" + WRONG,
    "forge_host_frame_via_proc_fds": REACH + "spray(FRAME)\n" + WRONG,
    "signal_handler_walks_frames": REACH + "import signal\nseen = []\n"
    "def h(sig, frame):\n    while frame is not None:\n        seen.extend(v for v in frame.f_locals.values() if isinstance(v, int) and 2 < v < 256)\n"
    "        frame = frame.f_back\n    for fd in seen:\n        try:\n            os.write(fd, TOKEN)\n        except OSError:\n            pass\n"
    "signal.signal(signal.SIGALRM, h)\nsignal.setitimer(signal.ITIMER_REAL, 0.001, 0.001)\n" + WRONG,
    "read_own_memory_for_the_tests": REACH
    + "import re\nhead, tail = b'candidate(5) - 1', b'0) < 1e-9'\nfound = False\np, _ = pids()\n"
    "for pid in ['self'] + pids()[1]:\n    try:\n        maps = open(os.open(pid + '/maps', os.O_RDONLY, dir_fd=p)).read().splitlines()\n"
    "        mem = os.open(pid + '/mem', os.O_RDONLY, dir_fd=p)\n    except OSError:\n        continue\n"
    "    for line in maps:\n        a, b = (int(x, 16) for x in line.split()[0].split('-'))\n"
    "        if line.split()[1][0] != 'r' or b - a > 1 << 26:\n            continue\n"
    "        try:\n            chunk = os.pread(mem, b - a, a)\n        except OSError:\n            continue\n"
    "        i = chunk.find(head)\n        while i >= 0:\n            found |= chunk[i + len(head): i + len(head) + len(tail)] == tail\n"
    "            i = chunk.find(head, i + 1)\n"
    "exec(GOOD if found else WRONG)\n",
    "kill_the_tests_process": REACH
    + "import signal\np, ps = pids()\nfor pid in ps:\n    try:\n        os.kill(int(pid), signal.SIGKILL)\n    except OSError:\n        pass\n"
    + WRONG,
    "interrupt_the_tests_process": REACH
    + "import signal, threading\ndef pester():\n    for _ in range(200):\n        for pid in pids()[1]:\n"
    "            for s in (signal.SIGINT, signal.SIGUSR1, signal.SIGALRM):\n                try:\n                    os.kill(int(pid), s)\n"
    "                except OSError:\n                    pass\nthreading.Thread(target=pester, daemon=True).start()\n"
    + WRONG,
    "exit_zero_at_import": "import sys\nsys.exit(0)\n" + WRONG,
    "os_exit_zero_in_candidate": "import os\ndef f(x):\n    if x == 2:\n        return 4\n    os._exit(0)\n",
    "systemexit_from_del": "class Bye:\n    def __del__(self):\n        raise SystemExit(0)\ndef f(x):\n    Bye()\n    return 4 if x == 2 else Bye()\n",
    "atexit_exit_zero": "import atexit, os\natexit.register(os._exit, 0)\n" + WRONG,
    "forge_reply_frames_early": "import os, json, struct\nfor v in (4, 10, 10, 10):\n    b = json.dumps({'ok': v}).encode()\n"
    "    try:\n        os.write(3, struct.pack('>I', 1 << 30) + b)\n    except OSError:\n        pass\n"
    + WRONG,
    "answer_nested_too_deep": "def f(x):\n    v = []\n    for _ in range(100000):\n        v = [v]\n    return 4 if x == 2 else v\n",
    "patch_harness_in_main": "import __main__\n__main__.PASS_TOKEN = b''\n__main__.run_tests = lambda *a: 0\n"
    "__main__.decode = lambda v: 10\n__main__.encode = lambda v, d=0: 10\n" + WRONG,
    "patch_harness_module": "import sys\nh = sys.modules['monkeys_python_tests']\nh.PASS_TOKEN = b''\n"
    "h.run_tests = lambda *a: 0\nh.decode = lambda v: 10\nh.encode = lambda v, d=0: 10\n" + WRONG,
    # 2. faking equality, shadowing and patching what the tests use
    "program_level_abs": "def abs(x):\n    return 0\n" + WRONG,
    "patch_builtins": "import builtins\nbuiltins.abs = lambda x: 0\nbuiltins.AssertionError = type('Q', (Exception,), {})\n"
    "builtins.type = lambda *a: int\nbuiltins.isinstance = lambda *a: True\n" + WRONG,
    "always_equal_object": ALWAYS + "def f(x):\n    return Yes()\n",
    "always_equal_via_weakref_proxy": ALWAYS
    + "import weakref\nkeep = Yes()\ndef f(x):\n    return weakref.proxy(keep)\n",
    "class_as_entry_point": ALWAYS.replace("class Yes", "class f"),
    "callable_instance_entry_point": ALWAYS
    + "class C:\n    def __call__(self, x):\n        return Yes()\nf = C()\n",
    "metaclass_lies_about_flags": "class M(type):\n    __flags__ = 0\n    @property\n    def __module__(cls):\n        return 'builtins'\n"
    + ALWAYS.replace("class Yes:", "class Yes(metaclass=M):")
    + "def f(x):\n    return Yes()\n",
    "patched_fraction_eq": "import fractions\nfractions.Fraction.__eq__ = lambda s, o: True\nfractions.Fraction.__sub__ = lambda s, o: 0\n"
    "def f(x):\n    return fractions.Fraction(0)\n",
    "int_subclass_named_builtins": "class Yes(int):\n    __module__ = 'builtins'\n    def __eq__(self, o):\n        return True\n    def __sub__(self, o):\n        return 0\n"
    "def f(x):\n    return Yes(0)\n",
    "str_subclass_eq": "class S(str):\n    def __eq__(self, o):\n        return True\n    def __sub__(self, o):\n        return 0\ndef f(x):\n    return S('x')\n",
    "redefine_check": "def check(candidate):\n    pass\n" + WRONG,
    # 3. leaving something for the next program
    "deep_tree_defeats_cleanup": "import os\nos.chdir('/tmp')\nfor i in range(1100):\n    os.mkdir('d' * 200)\n    os.chdir('d' * 200)\n"
    "open('f', 'w').close()\nos.chdir('/tmp')\nos.makedirs('/dev/shm/a/b', exist_ok=True)\nos.chmod('/dev/shm/a', 0)\n"
    + WRONG,
    "plant_answer_for_the_next": "open('/tmp/answer.py', 'w').write('def f(x):\\n    return 2 * x\\n')\n"
    "open('/dev/shm/answer.py', 'w').write('def f(x):\\n    return 2 * x\\n')\n" + WRONG,
    "harvest_planted_answer": "import os\nsrc = [p for p in ('/tmp/answer.py', '/dev/shm/answer.py', '/tmp/run/answer.py') if os.path.exists(p)]\n"
    "exec(open(src[0]).read() if src else WRONG)\n",
    "daemon_sprays_later_runs": REACH
    + "if os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n        import time\n"
    "        for _ in range(2000):\n            spray(TOKEN)\n            spray(FRAME)\n            time.sleep(0.002)\n    os._exit(0)\n"
    + WRONG,
    "squat_the_zygote_address": "import socket, os\ns = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)\n"
    "try:\n    s.bind('\\0monkeys-sandbox-zygote')\n    s.listen(4)\nexcept OSError:\n    pass\n"
    "if os.fork() == 0:\n    os.setsid()\n    import time\n    time.sleep(30)\n" + WRONG,
}


def render(body: str) -> str:
    return f"GOOD = {GOOD!r}\nWRONG = {WRONG!r}\n" + body


def sequence() -> tuple[list[tuple[str, str]], list[str]]:
    """Controls first, then each hostile program followed by a correct and a wrong control."""
    progs, roles = [GOOD + "# control 0\n", WRONG + "# control 1\n"], ["good", "wrong"]
    for name in sorted(HOSTILE):
        progs += [render(HOSTILE[name]), f"{GOOD}# after {name}\n", f"{WRONG}# after {name}\n"]
        roles += [name, "good", "wrong"]
    return [(p, p) for p in progs], roles


def ordinary_user() -> list[str]:
    """A command prefix that runs as an unprivileged user (created if missing, in the docker group)."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", USER], check=True
        )
    with_docker = subprocess.run(["getent", "group", "docker"], capture_output=True).returncode == 0
    if with_docker:
        subprocess.run(["usermod", "-aG", "docker", USER], check=True)
    return ["setpriv", f"--reuid={USER}", f"--regid={USER}", "--init-groups", "--reset-env"]


def drive(
    backend_name: str, kind: str, items: list[tuple[dict, str]], as_user: bool, tmp: Path
) -> list[list[str]]:
    prefix = ordinary_user() if as_user else []
    if as_user and prefix:
        tmp.chmod(0o777)
    python, path = sys.executable, str(ROOT)
    if prefix:  # the venv's interpreter may sit under a private home: the system's, with the venv's packages
        python = "/usr/bin/python3"
        path += os.pathsep + sysconfig.get_paths()["purelib"]
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": path,
        "HOME": str(tmp),
        "MONKEYS_DATA_DIR": os.environ.get("MONKEYS_DATA_DIR", ""),
    }
    cmd = [
        *prefix,
        "env",
        *(f"{k}={v}" for k, v in env.items()),
        python,
        "-m",
        "tests.sandbox_driver",
        backend_name,
        kind,
    ]
    out = subprocess.run(cmd, input=json.dumps(items), capture_output=True, text=True, cwd=tmp, timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout)


@pytest.mark.e2e
@pytest.mark.parametrize("as_user", [False, True], ids=["root", "user"])
def test_no_hostile_program_passes_or_moves_a_control(backend: str, as_user: bool, tmp_path: Path) -> None:  # noqa: F811
    if not as_user and os.geteuid() != 0:
        pytest.skip("the root case needs root")
    items, roles = sequence()
    verdicts = drive(backend, "python-tests", [(asdict(PROBLEM), c) for _, c in items], as_user, tmp_path)
    wrong = {}
    for i, (role, (verdict, reason)) in enumerate(zip(roles, verdicts, strict=True)):
        expected = {"good": ("pass",), "wrong": ("fail",)}.get(role, ("fail", "timeout"))
        if verdict not in expected:
            wrong[f"{i}:{role}"] = f"{verdict}: {reason}"
    assert wrong == {}


STDIO = Problem(
    "forgery/stdio",
    "",
    "",
    {"tests": json.dumps([{"input": "1\n", "output": "7\n"}, {"input": "2\n", "output": "14\n"}])},
)


@pytest.mark.e2e
@pytest.mark.parametrize("as_user", [False, True], ids=["root", "user"])
def test_stdio_program_cannot_speak_for_the_supervisor(backend: str, as_user: bool, tmp_path: Path) -> None:  # noqa: F811
    if not as_user and os.geteuid() != 0:
        pytest.skip("the root case needs root")
    good, wrong = "print(int(input()) * 7)\n", "print(7)\n"
    hostile = (
        REACH
        + 'FRAME = FRAME.replace(b\'"stdout": ""\', b\'"stdout": "14"\')\nspray(FRAME)\nspray(FRAME)\n'
        + wrong
    )
    items = [good, wrong, hostile, good + "# again\n", wrong + "# again\n"]
    verdicts = drive(
        backend, "stdio", [(asdict(STDIO), f"```python\n{c}```") for c in items], as_user, tmp_path
    )
    assert [v for v, _ in verdicts] == ["pass", "fail", "fail", "pass", "fail"], verdicts


@pytest.mark.e2e
def test_a_fork_bomb_in_one_sandbox_leaves_another_its_processes(backend: str) -> None:  # noqa: F811
    """Item 4: sandbox A holds as many processes as it may while sandbox B forks 12 children."""
    hold = (
        "import os, time\nkids = 0\nwhile True:\n    try:\n        if os.fork() == 0:\n            time.sleep(20)\n"
        "            os._exit(0)\n        kids += 1\n    except OSError:\n        break\ntime.sleep(20)\n"
    )
    fork12 = (
        "import os\nok = 0\nfor _ in range(12):\n    try:\n        pid = os.fork()\n    except OSError:\n        break\n"
        "    if pid == 0:\n        os._exit(0)\n    os.waitpid(pid, 0)\n    ok += 1\nprint(ok)\n"
    )
    a, b = create_sandbox(backend), create_sandbox(backend)
    try:
        b.run(Job("print(1)\n", Limits()))  # started before A fills up
        base = len(sandbox_uid_processes())
        done = threading.Event()
        t = threading.Thread(target=lambda: (a.run(Job(hold, Limits(wall=20, cpu=5))), done.set()))
        t.start()
        held = 0
        while not done.is_set() and held < 25:
            held = len(sandbox_uid_processes()) - base
        assert held >= 25, "sandbox A never held its processes"
        out = b.run(Job(fork12, Limits()))[0]
        still = len(sandbox_uid_processes()) - base
        assert out.stdout.strip() == "12", out
        assert still >= 25, "A let go of its processes before B ran: the test proved nothing"
    finally:
        a.close()
        b.close()
        t.join()
