"""Between two runs, the supervisor leaves nothing of the last one behind (sent ahead of _server.py).

It kills every process it can signal (`kill(-1)`, one atomic sweep that fork cannot outrun) and empties
/tmp and /dev/shm with an iterative walk that no depth of tree defeats. Stdlib only.
"""

import contextlib
import os
import signal
import time

WRITABLE = ("/tmp", "/dev/shm")


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
    """Kill whatever the last run left behind and empty the writable directories (isolated sandboxes)."""
    if not isolated:
        return
    for _ in range(50):
        with contextlib.suppress(OSError):
            os.kill(-1, signal.SIGKILL)  # everything but us and PID 1 (the zygote)
        reap_all()  # noqa: F821  (from _server.py)
        if not others():
            break
        time.sleep(0.01)
    for top in WRITABLE:
        if os.path.isdir(top):
            with contextlib.suppress(OSError):
                os.chmod(top, 0o1777)
            wipe(top)


def wipe(top):
    """Empty `top` without recursion or long paths: walk down by chdir, one name at a time, so neither a
    1,100-deep tree nor a path past PATH_MAX stops it. Only called once no other process runs."""
    import stat

    try:
        os.chdir(top)
    except OSError:
        return
    names = []  # the directories we stand in, below top
    try:
        while True:
            child = None
            try:
                with os.scandir(".") as it:
                    for entry in it:
                        try:
                            mode = os.lstat(entry.name).st_mode
                            if stat.S_ISDIR(mode):
                                child = entry.name
                                break
                            os.unlink(entry.name)
                        except OSError:
                            pass
            except OSError:
                pass
            if child is not None:
                try:
                    os.chmod(child, 0o700)
                    os.chdir(child)
                    names.append(child)
                    continue
                except OSError:
                    with contextlib.suppress(OSError):
                        os.rmdir(child)
                    break  # cannot enter it: leave the rest rather than loop
            if not names:
                return
            os.chdir("..")
            with contextlib.suppress(OSError):
                os.rmdir(names.pop())
    finally:
        os.chdir("/")
