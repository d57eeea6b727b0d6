"""Headless Chromium driven through the DevTools protocol over a pipe (``--remote-debugging-pipe``): no
package, no port. Every request the page makes is logged (``Network.requestWillBeSent``)."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

CHROMIUM = Path(__file__).resolve().parent / "chromium-wrapper.sh"


class Browser:
    def __init__(self, *flags: str) -> None:
        self.profile = tempfile.TemporaryDirectory(prefix="publisher-cdp-")
        to_child, self._write = os.pipe()  # Chromium reads its commands on fd 3
        self._read, from_child = os.pipe()  # and writes its answers and events on fd 4

        def fds() -> None:
            os.dup2(to_child, 3)
            os.dup2(from_child, 4)

        env = dict(os.environ, HOME=os.environ.get("HOME") or tempfile.gettempdir())
        self.proc = subprocess.Popen(
            [str(CHROMIUM), "--remote-debugging-pipe", f"--user-data-dir={self.profile.name}", *flags, "about:blank"],
            preexec_fn=fds, pass_fds=(3, 4), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        os.close(to_child)
        os.close(from_child)
        self._next = 0
        self._answers: dict[int, dict[str, Any]] = {}
        self.events: list[dict[str, Any]] = []
        self._lock = threading.Condition()
        threading.Thread(target=self._pump, daemon=True).start()
        self.session = ""

    def _pump(self) -> None:
        buf = b""
        with os.fdopen(self._read, "rb", buffering=0) as f:
            while True:
                chunk = f.read(65536)
                if not chunk:
                    return
                buf += chunk
                while b"\0" in buf:
                    raw, buf = buf.split(b"\0", 1)
                    msg = json.loads(raw)
                    with self._lock:
                        if "id" in msg:
                            self._answers[msg["id"]] = msg
                        else:
                            self.events.append(msg)
                        self._lock.notify_all()

    def send(self, method: str, params: dict[str, Any] | None = None, session: bool = True, timeout: float = 30) -> dict[str, Any]:
        with self._lock:
            self._next += 1
            ident = self._next
        msg: dict[str, Any] = {"id": ident, "method": method, "params": params or {}}
        if session and self.session:
            msg["sessionId"] = self.session
        os.write(self._write, json.dumps(msg).encode() + b"\0")
        end = time.monotonic() + timeout
        with self._lock:
            while ident not in self._answers:
                if not self._lock.wait(timeout=max(0.01, end - time.monotonic())) and time.monotonic() > end:
                    raise TimeoutError(f"no answer to {method}")
            answer = self._answers.pop(ident)
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")
        return answer.get("result", {})

    def open(self, url: str) -> None:
        """A new tab on ``url``, every request logged."""
        target = self.send("Target.createTarget", {"url": "about:blank"}, session=False)["targetId"]
        self.session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True}, session=False)["sessionId"]
        for domain in ("Network", "Page", "Runtime"):
            self.send(f"{domain}.enable")
        self.send("Page.navigate", {"url": url})
        self.wait_for("document.readyState === 'complete'")

    def eval(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        return result.get("result", {}).get("value")

    def wait_for(self, expression: str, timeout: float = 30) -> Any:
        end = time.monotonic() + timeout
        while True:
            value = self.eval(expression)
            if value:
                return value
            if time.monotonic() > end:
                raise TimeoutError(f"never true: {expression}")
            time.sleep(0.1)

    def requests(self) -> list[str]:
        with self._lock:
            return [e["params"]["request"]["url"] for e in self.events if e.get("method") == "Network.requestWillBeSent"]

    def close(self) -> None:
        try:
            self.send("Browser.close", session=False, timeout=5)
        except Exception:  # noqa: BLE001 - it may be gone already
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        os.close(self._write)
        self.profile.cleanup()
