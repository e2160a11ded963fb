"""Open a page in real headless Chromium and watch it over the DevTools protocol (on a pipe, no port).

Used by the report tests and the report benchmark: every network request the page makes, every console
error, uncaught exception and log error, the rendered DOM, script results and a screenshot.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-default-apps",
    "--disable-extensions",
    "--remote-debugging-pipe",
)


@dataclass
class PageLog:
    url: str
    requests: list[str] = field(
        default_factory=list
    )  # every URL the page asked for, the page itself included
    errors: list[str] = field(default_factory=list)  # console errors, uncaught exceptions, log errors
    seconds_to_load: float = 0.0


class Chromium:
    """One headless Chromium; `open(path)` loads a file and returns what happened."""

    def __init__(self, timeout: float = 60.0) -> None:
        if not os.path.exists(CHROMIUM):
            raise FileNotFoundError(f"{CHROMIUM} is missing; apt-get install chromium")
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="monkeys-chromium-")
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()

        def wire() -> None:  # in the child: the protocol reads fd 3 and writes fd 4
            a, b = os.dup(to_child_r), os.dup(from_child_w)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.proc = subprocess.Popen(
            [CHROMIUM, *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=wire,  # noqa: PLW1509  (fd wiring must happen between fork and exec)
            close_fds=False,
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self._inbox: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._events: list[dict[str, Any]] = []
        self._next = 0
        threading.Thread(target=self._read, daemon=True).start()
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Network", "Runtime", "Log", "Page"):
            self.call(f"{domain}.enable", session=self.session)

    def _read(self) -> None:
        buf = b""
        with os.fdopen(self._from_child, "rb", buffering=0) as fh:
            while chunk := fh.read(65536):
                buf += chunk
                while b"\0" in buf:
                    msg, buf = buf.split(b"\0", 1)
                    self._inbox.put(json.loads(msg))
        self._inbox.put(None)

    def _pump(self, deadline: float) -> dict[str, Any]:
        msg = self._inbox.get(timeout=max(0.01, deadline - time.monotonic()))
        if msg is None:
            raise RuntimeError("chromium closed the DevTools pipe")
        if "method" in msg:
            self._events.append(msg)
        return msg

    def call(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None
    ) -> dict[str, Any]:
        self._next += 1
        msg: dict[str, Any] = {"id": self._next, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._to_child, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            got = self._pump(deadline)
            if got.get("id") == self._next:
                if "error" in got:
                    raise RuntimeError(f"{method}: {got['error']}")
                return got.get("result", {})

    def wait_for(self, method: str) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout
        seen = len(self._events)
        while True:
            for ev in self._events[seen:]:
                if ev["method"] == method:
                    return ev
            seen = len(self._events)
            self._pump(deadline)

    def evaluate(self, expression: str) -> Any:
        res = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True}, self.session)
        if "exceptionDetails" in res:
            raise RuntimeError(f"script failed: {res['exceptionDetails']}")
        return res["result"].get("value")

    def open(self, path: Path, settle: float = 0.5) -> PageLog:
        url = Path(path).resolve().as_uri()
        self._events.clear()
        t0 = time.monotonic()
        self.call("Page.navigate", {"url": url}, self.session)
        self.wait_for("Page.loadEventFired")
        log = PageLog(url, seconds_to_load=time.monotonic() - t0)
        end = time.monotonic() + settle
        while time.monotonic() < end:  # let late requests or errors arrive
            try:
                self._pump(end)
            except queue.Empty:
                break
        for ev in self._events:
            p = ev.get("params", {})
            m = ev["method"]
            if m == "Network.requestWillBeSent":
                log.requests.append(p["request"]["url"])
            elif m == "Runtime.exceptionThrown":
                log.errors.append(f"exception: {p['exceptionDetails'].get('text')}")
            elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert", "warning"):
                log.errors.append(f"console {p['type']}: {[a.get('value') for a in p.get('args', [])]}")
            elif m == "Log.entryAdded" and p["entry"].get("level") in ("error", "warning"):
                log.errors.append(f"log {p['entry']['level']}: {p['entry'].get('text')}")
        return log

    def screenshot(self, out: Path, width: int = 1400) -> None:
        height = int(self.evaluate("document.documentElement.scrollHeight"))
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": min(height, 8000), "deviceScaleFactor": 1, "mobile": False},
            self.session,
        )
        shot = self.call("Page.captureScreenshot", {"format": "png"}, self.session)
        Path(out).write_bytes(base64.b64decode(shot["data"]))

    def close(self) -> None:
        with contextlib.suppress(Exception):  # a browser that already died cannot be asked to close
            self.call("Browser.close")
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_child)
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
