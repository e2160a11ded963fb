"""The supervisor that runs inside a sandbox (bwrap, a container, or unsafely on the host).

Stdlib only: it runs under the sandbox's own python3, started as `python3 -s -c <this file's text>`. It reads
framed JSON jobs on stdin and answers on stdout. Each test of a job runs in a child forked from this warm
process (no interpreter start-up per program), with rlimits on CPU time, memory, processes and file size, a
wall-clock deadline, and an output cap. Between runs it kills every other process it can signal and wipes
the writable directories, so one sample never sees another's leftovers.

Python-test children run `run_python_tests` from _harness.py, which is sent ahead of this file in the same
`-c` text. This process is made non-dumpable, so children cannot ptrace it or open its memory or fds.
"""

import builtins
import contextlib
import json
import os
import resource
import select
import signal
import struct
import sys
import time

PREIMPORT = (
    "math cmath re collections itertools functools heapq bisect string fractions decimal statistics random "
    "typing operator copy array hashlib datetime io traceback threading dataclasses enum"
)
# extension modules loaded here, before any program runs: programs may use them, but may load no others
# (see no_extensions)
PRELOAD_EXTENSIONS = (
    "_asyncio _bz2 _contextvars _decimal _hashlib _json _lzma _multibytecodec _queue _typing _uuid _zoneinfo "
    "mmap resource _multiprocessing _posixshmem _lsprof"
)
WRITABLE = ("/tmp", "/dev/shm")


def make_nondumpable():
    """PR_SET_DUMPABLE=0: same-uid children can no longer ptrace us or open /proc/<us>/{mem,fd}."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)
    except Exception:
        pass
    for name in [m for m in sys.modules if m == "ctypes" or m.startswith(("ctypes.", "_ctypes"))]:
        del sys.modules[name]


def send(obj):
    data = json.dumps(obj).encode()
    os.write(1, struct.pack(">I", len(data)))
    view = memoryview(data)
    while view:
        n = os.write(1, view)
        view = view[n:]


def read_exact(n):
    chunks = []
    while n:
        b = os.read(0, n)
        if not b:
            return None
        chunks.append(b)
        n -= len(b)
    return b"".join(chunks)


def recv():
    head = read_exact(4)
    if head is None:
        return None
    body = read_exact(struct.unpack(">I", head)[0])
    return None if body is None else json.loads(body)


def set_limits(limits):
    cpu = max(1, int(limits["cpu"] + 0.999))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    mem = int(limits["memory_mb"]) << 20
    resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    resource.setrlimit(resource.RLIMIT_NPROC, (limits["processes"], limits["processes"]))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits["file_bytes"], limits["file_bytes"]))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))


def run_stdio_program(job):
    """Body of a stdio child: run the program as `python3 solution.py` would, in this warm interpreter."""
    sys.argv = ["solution.py"]
    sys.stdin = open(0, encoding="utf-8", errors="replace", closefd=False)  # noqa: SIM115
    sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
    code = 0
    try:
        exec(
            compile(job["program"], "solution.py", "exec"), {"__name__": "__main__", "__builtins__": builtins}
        )
    except SystemExit as e:
        if e.code is None:
            code = 0
        elif isinstance(e.code, int):
            code = e.code
        else:
            print(e.code, file=sys.stderr)
            code = 1
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 1
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    return code


def child(job, stdin_fd, out_w, err_w, res_w, pristine, snap):
    try:
        os.setsid()
        os.dup2(stdin_fd, 0)
        os.dup2(out_w, 1)
        os.dup2(err_w, 2)
        keep = {0, 1, 2, res_w}
        for fd in range(3, 1024):
            if fd not in keep:
                with contextlib.suppress(OSError):
                    os.close(fd)
        os.chdir(job["workdir"])
        set_limits(job["limits"])
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        if job["kind"] == "python":
            code = run_python_tests(job, pristine, snap, res_w)  # noqa: F821  (from _harness.py)
        else:
            code = run_stdio_program(job)
    except BaseException:
        code = 120
    os._exit(code & 0xFF if isinstance(code, int) else 1)


def run_one(job, stdin_data, pristine, snap):
    """Fork one child for one test, feed nothing, collect its outputs under the limits."""
    limits = job["limits"]
    stdin_fd = os.memfd_create("stdin")
    if stdin_data:
        os.write(stdin_fd, stdin_data.encode())
        os.lseek(stdin_fd, 0, 0)
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    res_r, res_w = os.pipe()
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:
        child(job, stdin_fd, out_w, err_w, res_w, pristine, snap)
    for fd in (stdin_fd, out_w, err_w, res_w):
        os.close(fd)
    bufs = {out_r: bytearray(), err_r: bytearray(), res_r: bytearray()}
    caps = {out_r: limits["output_bytes"], err_r: limits["output_bytes"], res_r: 4096}
    open_fds = set(bufs)
    deadline = start + limits["wall"]
    timed_out = exceeded = False
    status = usage = None
    while open_fds:
        left = deadline - time.monotonic()
        if left <= 0:
            timed_out = True
            break
        ready, _, _ = select.select(list(open_fds), [], [], min(left, 0.5))
        for fd in ready:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                open_fds.discard(fd)
                continue
            bufs[fd] += chunk
            if len(bufs[fd]) > caps[fd]:
                exceeded = True
        if exceeded:
            break
        # a daemon can hold the pipes open after the program exited; the program's exit ends the run
        if status is None:
            got, st, ru = os.wait4(pid, os.WNOHANG)
            if got:
                status, usage = st, ru
                drain_until = time.monotonic() + 0.2
                deadline = min(deadline, drain_until)
    while status is None and not (timed_out or exceeded):
        # every pipe is closed but the program still runs (it closed its own stdout): let it finish
        got, st, ru = os.wait4(pid, os.WNOHANG)
        if got:
            status, usage = st, ru
        elif time.monotonic() >= deadline:
            timed_out = True
        else:
            time.sleep(0.002)
    wall = time.monotonic() - start
    if status is None:
        with contextlib.suppress(OSError):
            os.killpg(pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
        _, status, usage = os.wait4(pid, 0)
    elif timed_out and wall < limits["wall"]:
        timed_out = False  # only the leftover pipes were slow to close; the program itself exited in time
    for fd in bufs:
        os.close(fd)
    cpu = usage.ru_utime + usage.ru_stime
    sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
    if sig == signal.SIGXCPU or (sig == signal.SIGKILL and cpu >= limits["cpu"]):
        timed_out = True
    return {
        "exit_code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
        "signal": sig,
        "timed_out": timed_out,
        "output_exceeded": exceeded,
        "wall": round(wall, 4),
        "cpu": round(cpu, 4),
        "stdout": bytes(bufs[out_r][: limits["output_bytes"]]).decode("utf-8", "replace"),
        "stderr": bytes(bufs[err_r][-4096:]).decode("utf-8", "replace"),
        "result": bytes(bufs[res_r][:4096]).decode("utf-8", "replace"),
    }


def others():
    me = os.getpid()
    pids = []
    for name in os.listdir("/proc"):
        if name.isdigit() and int(name) not in (1, me):
            try:
                with open(f"/proc/{name}/stat") as f:
                    if f.read().rsplit(")", 1)[1].split()[0] != "Z":
                        pids.append(int(name))
            except OSError:
                pass
    return pids


def sweep(isolated):
    """Kill whatever the last run left behind and wipe the writable directories (isolated sandboxes only)."""
    if not isolated:
        return
    for _ in range(50):
        with contextlib.suppress(OSError):
            os.kill(-1, signal.SIGKILL)
        while True:
            try:
                if os.waitpid(-1, os.WNOHANG)[0] == 0:
                    break
            except ChildProcessError:
                break
        if not others():
            break
        time.sleep(0.01)
    for top in WRITABLE:
        if os.path.isdir(top):
            with contextlib.suppress(OSError):
                os.chmod(top, 0o1777)
            wipe(top)


def wipe(top):
    try:
        entries = os.listdir(top)
    except OSError:
        return
    for name in entries:
        path = os.path.join(top, name)
        try:
            if os.path.isdir(path) and not os.path.islink(path):
                os.chmod(path, 0o700)
                wipe(path)
                os.rmdir(path)
            else:
                os.unlink(path)
        except OSError:
            pass


def main():
    make_nondumpable()
    for name in PREIMPORT.split() + PRELOAD_EXTENSIONS.split():
        with contextlib.suppress(ImportError):
            __import__(name)
    pristine = dict(builtins.__dict__)
    snap = snapshot_modules()  # noqa: F821  (from _harness.py)
    config = recv() or {}
    isolated = bool(config.get("isolated"))
    scratch = config.get("scratch") or "/tmp"
    send({"ready": True, "python": sys.version.split()[0], "uid": os.getuid()})
    while True:
        job = recv()
        if job is None:
            return
        job["workdir"] = os.path.join(scratch, "run")
        inputs = job.get("inputs") or [""]
        for i, data in enumerate(inputs):
            sweep(isolated)
            os.makedirs(job["workdir"], exist_ok=True)
            result = run_one(job, data, pristine, snap)
            result["index"] = i
            send(result)
            reply = recv()
            if reply is None:
                return
            if not reply.get("continue"):
                break
        sweep(isolated)
        if not isolated:
            wipe(job["workdir"])
        send({"end": True})


main()
