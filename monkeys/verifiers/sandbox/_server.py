"""The supervisor that runs inside a sandbox (bwrap, a container, or unsafely on the host).

Stdlib only: it runs under the sandbox's own python3, started as `python3 -s -c <this file's text> ROLE`,
with `MODULES` (name -> source of the trusted modules jobs may call, see base.py) defined ahead of it.
Three kinds of process live in a sandbox:

- the **zygote** imports the usual modules and MODULES once, then only forks program processes on
  request. It never receives a job: a program process reads its request and its program from memfds
  itself, so the zygote's memory (which every later program inherits) holds nothing of any job, any
  other program or the host channel. In bwrap and docker it is the namespace's PID 1: no signal from a
  program reaches it, and orphans are reaped by it;
- the **supervisor** reads framed JSON jobs on stdin (the host channel; no program can reach it: the
  supervisor is non-dumpable and its fds are never inherited), forks a job's companion itself (so the
  companion never shares memory with any program), asks the zygote for the program process, enforces
  the wall clock and output caps, and answers on stdout with what each run did, the companion's report
  included (read from a pipe only the companion holds);
- per run, the **program process** and (jobs with a companion) the **companion process**, each under
  rlimits on CPU time, memory, file size and open files. The process limit is RLIMIT_NPROC in bwrap,
  where each sandbox has its own user namespace and Linux (>= 5.14) counts RLIMIT_NPROC per user
  namespace, so a fork bomb in one sandbox never starves another; in docker it is the container's pids
  cgroup (every container runs as uid 65534 of the host's namespace, where RLIMIT_NPROC would be shared
  with all of them). Both are non-dumpable, so neither can ptrace or open /proc/<pid>/{mem,fd} of the other.

Between runs the supervisor sweeps the sandbox clean (`_sweep.py`, sent ahead of this file).
"""

import builtins
import contextlib
import json
import os
import resource
import select
import signal
import socket
import struct
import sys
import time

PREIMPORT = (
    "math cmath re collections itertools functools heapq bisect string fractions decimal statistics random "
    "typing operator copy array hashlib datetime io traceback threading dataclasses enum symtable types"
)
# extension modules loaded here, before any program runs: programs may use them, but may load no others
# (the code verifiers' harness forbids loading others)
PRELOAD_EXTENSIONS = (
    "_asyncio _bz2 _contextvars _decimal _hashlib _json _lzma _multibytecodec _queue _typing _uuid _zoneinfo "
    "mmap resource _multiprocessing _posixshmem _lsprof"
)
REPORT_BYTES = 4096  # as base.REPORT_BYTES
ZYGOTE_ADDRESS = "\0monkeys-sandbox-zygote"


def make_nondumpable():
    """PR_SET_DUMPABLE=0 (inherited by every fork): same-uid processes can no longer ptrace us or open
    /proc/<us>/{mem,fd}."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)
    except Exception:
        pass
    for name in [m for m in sys.modules if m == "ctypes" or m.startswith(("ctypes.", "_ctypes"))]:
        del sys.modules[name]


def warm_up():
    make_nondumpable()
    for name in PREIMPORT.split() + PRELOAD_EXTENSIONS.split():
        with contextlib.suppress(ImportError):
            __import__(name)
    import types

    for name, source in MODULES.items():  # noqa: F821  (defined ahead of this file, see base.py)
        module = types.ModuleType(name)
        module.__file__ = f"<{name}>"
        sys.modules[name] = module
        exec(compile(source, f"<{name}>", "exec"), module.__dict__)


def resolve(spec):
    """The function "module:function" of one of MODULES."""
    module, _, function = spec["function"].partition(":")
    return getattr(sys.modules[module], function)


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


def set_limits(limits, nproc):
    cpu = max(1, int(limits["cpu"] + 0.999))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    mem = int(limits["memory_mb"]) << 20
    resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    if nproc:
        resource.setrlimit(resource.RLIMIT_NPROC, (limits["processes"], limits["processes"]))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits["file_bytes"], limits["file_bytes"]))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))


def close_fds_except(keep):
    for fd in range(3, 1024):
        if fd not in keep:
            with contextlib.suppress(OSError):
                os.close(fd)


def memfd_with(text):
    fd = os.memfd_create("data")
    if text:
        data = text.encode()
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    os.lseek(fd, 0, 0)
    return fd


def read_memfd(fd):
    with os.fdopen(os.dup(fd), "rb") as f:
        return f.read().decode("utf-8", "replace")


def run_python_main(program, filename, argv):
    """Run a program as `python3 <filename> <argv>` would, in this warm interpreter."""
    sys.argv = [filename, *argv]
    sys.stdin = open(0, encoding="utf-8", errors="replace", closefd=False)  # noqa: SIM115
    sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
    code = 0
    try:
        exec(compile(program, filename, "exec"), {"__name__": "__main__", "__builtins__": builtins})
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


# -- the zygote ----------------------------------------------------------------------------------------
def program_process(fds):
    """Child of the zygote: stdin, stdout, stderr, the program's and the request's memfds and (jobs with a
    companion) the socket to it."""
    code = 120
    try:
        os.setsid()
        stdin_fd, out_w, err_w, prog_fd, req_fd = fds[:5]
        os.dup2(stdin_fd, 0)
        os.dup2(out_w, 1)
        os.dup2(err_w, 2)
        request = json.loads(read_memfd(req_fd))
        program = read_memfd(prog_fd)
        channel = None
        if len(fds) > 5:
            os.dup2(fds[5], 3)
            channel = 3
        close_fds_except({channel})
        os.chdir(request["workdir"])
        set_limits(request["limits"], request["nproc"])
        os.environ.update(request["env"])
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        if request["command"]:
            try:
                os.execve(request["command"][0], request["command"], dict(os.environ))
            except OSError as e:
                os.write(2, f"cannot run {request['command'][0]}: {e.strerror}\n".encode())
                code = 127
        elif request["main"]:
            code = resolve(request["main"])(program, request["main"]["args"], channel)
        else:
            code = run_python_main(program, request["filename"], request["argv"])
    except BaseException:
        code = 120
    os._exit(code & 0xFF if isinstance(code, int) else 1)


def reap_all():
    while True:
        try:
            if os.waitpid(-1, os.WNOHANG)[0] == 0:
                return
        except ChildProcessError:
            return


def zygote(sock):
    """Fork one program process per request and report its exit; reap every orphan."""
    while True:
        reap_all()
        try:
            msg, fds, _, _ = socket.recv_fds(sock, 1 << 16, 8)
        except OSError:
            os._exit(0)
        if not msg:
            os._exit(0)
        pid = os.fork()
        if pid == 0:
            sock.close()
            program_process(fds)
        for fd in fds:
            os.close(fd)
        sock.send(json.dumps({"pid": pid}).encode())
        while True:
            try:
                got, status, usage = os.wait4(-1, 0)
            except ChildProcessError:
                got, status, usage = pid, 0, None
            except InterruptedError:
                continue
            if got == pid:
                cpu = usage.ru_utime + usage.ru_stime if usage else 0.0
                sock.send(json.dumps({"status": status, "cpu": cpu}).encode())
                break


def quiet_stdio():
    null = os.open("/dev/null", os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)


# -- the supervisor ------------------------------------------------------------------------------------
def companion_process(job, out_w, err_w, channel, report_w, nproc):
    """Child of the supervisor: the job's trusted companion, with its channel to the program as fd 3 and
    its report pipe as fd 4. It never runs a line of the program."""
    code = 120
    try:
        os.setsid()
        null = os.open("/dev/null", os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(out_w, 1)
        os.dup2(err_w, 2)
        import fcntl

        channel, report_w = (fcntl.fcntl(fd, fcntl.F_DUPFD, 100) for fd in (channel, report_w))  # above 3, 4
        os.dup2(channel, 3)
        os.dup2(report_w, 4)
        close_fds_except({3, 4})
        os.chdir(job["workdir"])
        set_limits(job["limits"], nproc)
        code = resolve(job["companion"])(job["companion"]["args"], 3, 4)
    except BaseException:
        code = 120
    os._exit(code & 0xFF if isinstance(code, int) else 1)


def kill_tree(pid):
    with contextlib.suppress(OSError):
        os.killpg(pid, signal.SIGKILL)
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGKILL)


def wait_until(pid, deadline):
    """(status, rusage) of `pid` once it exits, or (None, None) at the deadline."""
    while time.monotonic() < deadline:
        got, status, usage = os.wait4(pid, os.WNOHANG)
        if got:
            return status, usage
        time.sleep(0.0005)
    return None, None


def run_one(job, stdin_data, zsock, nproc):
    """One run: the program process (and the companion), under the limits; what they did."""
    limits = job["limits"]
    paired = bool(job["companion"])
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    stdin_fd = memfd_with(stdin_data)
    prog_fd = memfd_with(job["program"])
    request = {key: job[key] for key in ("limits", "workdir", "env", "argv", "filename", "command", "main")}
    req_fd = memfd_with(json.dumps(dict(request, nproc=nproc)))
    give = [stdin_fd, out_w, err_w, prog_fd, req_fd]
    mine = list(give)
    rep_r = comp_pid = None
    start = time.monotonic()
    if paired:
        c_sock, p_sock = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        rep_r, rep_w = os.pipe()
        comp_pid = os.fork()
        if comp_pid == 0:
            companion_process(job, out_w, err_w, c_sock.fileno(), rep_w, nproc)
        give.append(p_sock.fileno())
        mine += [rep_w]
    socket.send_fds(zsock, [b"run"], give)
    for fd in mine:
        os.close(fd)
    if paired:
        c_sock.close()
        p_sock.close()
    got = json.loads(zsock.recv(1 << 16))
    program_pid = got["pid"]
    bufs = {out_r: bytearray(), err_r: bytearray()}
    caps = {out_r: limits["output_bytes"], err_r: limits["output_bytes"]}
    if rep_r is not None:
        bufs[rep_r] = bytearray()
        caps[rep_r] = REPORT_BYTES
    open_fds = set(bufs)
    deadline = start + limits["wall"]
    timed_out = exceeded = False
    comp_status = comp_usage = program_status = None
    program_cpu = 0.0
    finished_at = None
    while True:
        now = time.monotonic()
        if finished_at is not None and (not open_fds or now >= finished_at + 0.2):
            break  # the deciding process exited; its pipes drained (or a daemon holds them)
        if finished_at is None and now >= deadline:
            timed_out = True
            break
        until = (finished_at + 0.2) if finished_at is not None else deadline
        watch = list(open_fds) + ([zsock] if program_status is None else [])
        ready, _, _ = select.select(watch, [], [], max(0.0, min(until - now, 0.5)))
        for fd in ready:
            if fd is zsock:
                msg = json.loads(zsock.recv(1 << 16))
                program_status, program_cpu = msg["status"], msg["cpu"]
                continue
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                open_fds.discard(fd)
                if fd == rep_r and finished_at is None:  # the companion is exiting: reap it now
                    comp_status, comp_usage = wait_until(comp_pid, deadline)
                    if comp_status is not None:
                        finished_at = time.monotonic()
                continue
            bufs[fd] += chunk
            if len(bufs[fd]) > caps[fd]:
                exceeded = True
        if exceeded:
            break
        if finished_at is None:
            if paired and comp_status is None:
                got_pid, st, ru = os.wait4(comp_pid, os.WNOHANG)
                if got_pid:
                    comp_status, comp_usage = st, ru
                    finished_at = time.monotonic()
            elif program_status is not None:
                finished_at = time.monotonic()
    wall = (finished_at or time.monotonic()) - start
    kill_tree(program_pid)
    if paired and comp_status is None:
        kill_tree(comp_pid)
        _, comp_status, comp_usage = os.wait4(comp_pid, 0)
    if program_status is None:
        msg = json.loads(zsock.recv(1 << 16))  # the zygote reports it once the kill lands
        program_status, program_cpu = msg["status"], msg["cpu"]
    for fd in bufs:
        os.close(fd)
    status = comp_status if paired else program_status
    cpu = program_cpu + (comp_usage.ru_utime + comp_usage.ru_stime if comp_usage else 0.0)
    sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
    for st, used in ((status, cpu), (program_status, program_cpu)):
        s = os.WTERMSIG(st) if os.WIFSIGNALED(st) else None
        if s == signal.SIGXCPU or (s == signal.SIGKILL and used >= limits["cpu"]):
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
        "report": bytes(bufs[rep_r][:REPORT_BYTES]).decode("utf-8", "replace") if paired else "",
    }


def write_files(workdir, files):
    """The job's files, in the emptied working directory (paths were checked on the host)."""
    for name, text in files.items():
        path = os.path.join(workdir, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)


def supervise(zsock):
    """Answer the host's jobs: one ready line, then per job one record per run and an end marker."""
    config = recv() or {}
    isolated = bool(config.get("isolated"))
    nproc = bool(config.get("nproc", True))
    scratch = config.get("scratch") or "/tmp"
    send({"ready": True, "python": sys.version.split()[0], "uid": os.getuid()})
    while True:
        job = recv()
        if job is None:
            return
        job["workdir"] = os.path.join(scratch, "run")
        inputs = job.get("inputs") or [""]
        for i, data in enumerate(inputs):
            sweep(isolated)  # noqa: F821  (from _sweep.py)
            os.makedirs(job["workdir"], exist_ok=True)
            write_files(job["workdir"], job["files"])
            result = run_one(job, data, zsock, nproc)
            result["index"] = i
            send(result)
            reply = recv()
            if reply is None:
                return
            if not reply.get("continue"):
                break
        sweep(isolated)  # noqa: F821
        if not isolated:
            wipe(job["workdir"])  # noqa: F821
        send({"end": True})


def main():
    role = sys.argv[1] if len(sys.argv) > 1 else "unsafe"
    warm_up()
    if role == "docker-zygote":  # the container's PID 1: serves the one supervisor that connects first
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        listener.bind(ZYGOTE_ADDRESS)
        listener.listen(1)
        quiet_stdio()
        conn, _ = listener.accept()
        listener.close()
        zygote(conn)
    if role == "docker":  # a `docker exec` session: the supervisor
        zsock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        for _ in range(400):
            try:
                zsock.connect(ZYGOTE_ADDRESS)
                break
            except OSError:
                time.sleep(0.025)
        supervise(zsock)
        return
    # bwrap (the zygote is PID 1 of the sandbox) and unsafe (the zygote is our child): the zygote forks
    # off before any job arrives
    s_sock, z_sock = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    pid = os.fork()
    zygote_here = (pid != 0) if role == "bwrap" else (pid == 0)
    if zygote_here:
        s_sock.close()
        quiet_stdio()
        zygote(z_sock)
    z_sock.close()
    supervise(s_sock)


main()
