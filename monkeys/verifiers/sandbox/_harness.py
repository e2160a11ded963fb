"""The python-tests harness that runs inside a sandbox child (sent ahead of _server.py, stdlib only).

The child writes the host's nonce to a private pipe only after the test code returned, and the host compares
it: exiting 0, closing stdout or faking `sys.exit` cannot pass. The nonce lives only in frame locals, and an
audit hook (which Python code cannot remove) blocks the routes to them: frame and gc introspection, tracing,
ctypes and new native code, /proc, symlinks, code-object forging, and exec of fresh interpreters. The tests
see pristine builtins and the program's functions sealed against returning objects of the program's own
classes (an always-equal object would satisfy any `assert f(x) == y`); replacing a function of any loaded
module fails the tests.
"""

import builtins
import os
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


def no_extensions(spec, *args):
    raise ImportError(f"loading the extension module {getattr(spec, 'name', '?')} is disabled in the sandbox")


def install_guard():
    """The audit hook that keeps the program away from the nonce (and from forging what the tests see)."""
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


def snapshot_modules():
    snap = {}
    for name, mod in list(sys.modules.items()):
        if name in ("sys", "_imp", "__main__") or mod is None:  # the harness itself changes _imp
            continue
        d = getattr(mod, "__dict__", None)
        if isinstance(d, dict):
            snap[name] = (d, {k: v for k, v in d.items() if callable(v)})
    return snap


def tampered(snap):
    for name, (d, items) in snap.items():
        for k, v in items.items():
            if d.get(k) is not v:
                return f"{name}.{k}"
    return None


HEAP_TYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE: a class written in Python (by the program, or a few stdlib ones)


def plain_result(value, allowed_heap, budget=100000):
    """True when a return value holds only built-in types, so its __eq__ cannot be the program's own."""
    stack = [value]
    while stack:
        budget -= 1
        if budget < 0:
            return True
        v = stack.pop()
        t = type(v)
        if t.__flags__ & HEAP_TYPE and t not in allowed_heap:
            return False
        if t in (list, tuple, set, frozenset):
            stack.extend(v)
        elif t is dict:
            stack.extend(v.keys())
            stack.extend(v.values())
    return True


def sealed(fn, allowed_heap):
    """Wrap a program function so that returning an object of a program-defined class fails the tests
    (an always-equal object would otherwise satisfy every `assert f(x) == y`)."""

    def call(*args, **kwargs):
        out = fn(*args, **kwargs)
        if not plain_result(out, allowed_heap):
            raise TypeError(
                f"{getattr(fn, '__name__', 'the function')} returned a {type(out).__name__}, a class "
                "the program defined; only built-in types are accepted"
            )
        return out

    call.__name__ = getattr(fn, "__name__", "call")
    call.__doc__ = getattr(fn, "__doc__", None)
    return call


def where(exc):
    """The exception and its innermost line number, without touching frames (tb_frame is guarded)."""
    tb, line = exc.__traceback__, None
    while tb is not None:
        line = tb.tb_lineno
        tb = tb.tb_next
    text = f"{type(exc).__name__}: {exc}"
    return text if line is None else f"{text} (line {line})"


def allowed_heap_types():
    import collections
    import fractions

    return frozenset({fractions.Fraction, collections.Counter, collections.OrderedDict})


def run_python_tests(job, pristine, snap, result_fd):
    """Body of a python-tests child. Returns the exit code; writes the nonce only when the tests returned."""
    nonce = job["nonce"].encode()
    # imports compile from source from here on: reading .pyc files needs marshal.loads, which the guard
    # forbids because crafted bytecode can read memory
    sys.pycache_prefix = "/nonexistent-pycache"
    # no new native code: an extension module already loaded here (ctypes, for prctl) would otherwise load
    # again through ExtensionFileLoader without an audit event
    import _imp

    _imp.create_dynamic = no_extensions
    install_guard()
    compile_, exec_ = compile, exec
    try:
        program = compile_(job["program"], "solution.py", "exec")
        tests = compile_(job["tests"], "tests.py", "exec")
    except SyntaxError as e:
        os.write(2, f"SyntaxError: {e}\n".encode())
        return 1
    prog_globals = {"__name__": "__main__", "__builtins__": builtins}
    try:
        exec_(program, prog_globals)
        entry = job.get("entry_point")
        if entry and entry not in prog_globals:
            os.write(2, f"entry point {entry!r} is not defined by the program\n".encode())
            return 1
        # tests see the program's names (HumanEval tests call its helpers) but the builtins as they were,
        # and the program's functions sealed against returning objects of its own classes
        allowed_heap = allowed_heap_types()
        function = type(sealed)
        test_globals = {
            k: sealed(v, allowed_heap) if type(v) is function and v.__globals__ is prog_globals else v
            for k, v in prog_globals.items()
        }
        test_globals["__builtins__"] = dict(pristine)
        test_globals.pop("check", None)
        exec_(tests, test_globals)
        if entry:
            test_globals["check"](test_globals[entry])
    except BaseException as e:  # SystemExit included: leaving early is a failure, not a pass
        os.write(2, (where(e) + "\n").encode(errors="replace"))
        return 1
    bad = tampered(snap)
    if bad:
        os.write(2, f"the program replaced {bad}; tampering fails the tests\n".encode())
        return 1
    os.write(result_fd, nonce)
    return 0
