"""One listening LibreOffice and the UNO bridge that drives it (``uno_bridge.py``).

Every request carries an id that its reply echoes; a reply to another request is dropped, so a
late answer can never be taken for the next document's. A LibreOffice that does not answer in
time, crashes or answers out of turn is killed with its bridge — every process whose command line
holds its profile's URL, so an soffice.bin orphaned by its oosplash goes too — and raises
``ConverterError``; the owner starts a fresh one. Not thread-safe but for ``kill``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import selectors
import subprocess
import time
import uuid
from pathlib import Path

from workers.documents.uno_bridge import kill_marked, remove_sockets
from workers.errors import ConverterError

log = logging.getLogger(__name__)
BRIDGE = Path(__file__).with_name("uno_bridge.py")


class Refused(Exception):  # noqa: N818 - LibreOffice answered, but could not read the document
    pass


class _Lines:
    """Lines from a pipe, each awaited until a deadline (a buffered readline could block past
    it, and would hide a second line from the next select)."""

    def __init__(self, fd: int) -> None:
        self.fd, self.buffer = fd, b""
        self.selector = selectors.DefaultSelector()
        self.selector.register(fd, selectors.EVENT_READ)

    def readline(self, deadline: float) -> bytes | None:
        """The next line (with its newline), b"" at end of file, None at the deadline."""
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not self.selector.select(left):
                return None
            chunk = os.read(self.fd, 65536)
            if not chunk:
                return b""
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line + b"\n"

    def close(self) -> None:
        self.selector.close()


class Office:
    """``start``, ``convert(src, dst, timeout)``, ``stop``; ``args`` start soffice with its own
    profile, whose URL is ``marker``."""

    def __init__(self, args: list[str], marker: str, env: dict[str, str], python: str) -> None:
        self.args, self.marker, self.env, self.python = args, marker, env, python
        self.pipe = f"iro_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        self._office: subprocess.Popen[bytes] | None = None
        self._bridge: subprocess.Popen[bytes] | None = None
        self._lines: _Lines | None = None
        self._next_id = 1

    def running(self) -> bool:
        return (self._bridge is not None and self._bridge.poll() is None
                and self._office is not None and self._office.poll() is None)

    def start(self, timeout: float) -> None:
        try:
            self._start(timeout)
        except BaseException:
            self.stop()  # nothing half-started is left running
            raise

    def _start(self, timeout: float) -> None:
        self._office = subprocess.Popen(
            [*self.args, f"--accept=pipe,name={self.pipe};urp;StarOffice.ComponentContext"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env=self.env,
        )
        self._bridge = subprocess.Popen(
            [self.python, str(BRIDGE), self.pipe, str(timeout), self.marker],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=0,
        )
        assert self._bridge.stdout is not None
        self._lines = _Lines(self._bridge.stdout.fileno())
        self._reply(0, timeout, "start")

    def convert(self, src: Path, dst: Path, timeout: float) -> None:
        assert self._bridge is not None and self._bridge.stdin is not None
        request = self._next_id
        self._next_id += 1
        line = json.dumps({"id": request, "in": str(src), "out": str(dst)}) + "\n"
        try:
            self._bridge.stdin.write(line.encode())
        except OSError:
            self.stop()
            raise ConverterError("LibreOffice's bridge had stopped; it will be started "
                                 "afresh") from None
        reply = self._reply(request, timeout, "convert a document")
        if not reply.get("ok"):
            raise Refused(f"LibreOffice could not convert the document: {reply.get('error')}")

    def _reply(self, request: int, timeout: float, what: str) -> dict[str, object]:
        """The bridge's reply to ``request``; replies to other requests are dropped."""
        assert self._lines is not None
        deadline = time.monotonic() + timeout
        while True:
            line = self._lines.readline(deadline)
            if not line:
                self.stop()
                if line is None:
                    raise ConverterError(f"LibreOffice did not {what} within {timeout:g} s; it "
                                         "was stopped and will be started afresh")
                raise ConverterError(f"LibreOffice stopped while trying to {what}; it will "
                                     "be started afresh")
            try:
                reply = json.loads(line)
                answers = reply.get("id")
            except (ValueError, AttributeError):
                self.stop()
                raise ConverterError("LibreOffice's bridge answered with something that is "
                                     "not a reply; it will be started afresh") from None
            if answers == request:
                return dict(reply)
            log.warning("LibreOffice answered request %s late (awaiting %s); answer dropped",
                        answers, request)

    def kill(self) -> None:
        """SIGKILL LibreOffice and its bridge; safe from another thread (it only signals)."""
        kill_marked(self.marker)

    def stop(self) -> None:
        """Kill LibreOffice and its bridge (if not already gone) and reap them."""
        self.kill()
        for proc in (self._bridge, self._office):
            if proc is not None:
                proc.wait()
                for pipe in (proc.stdin, proc.stdout):
                    if pipe is not None:
                        with contextlib.suppress(OSError):
                            pipe.close()
        if self._lines is not None:
            self._lines.close()
        self._bridge = self._office = self._lines = None
        remove_sockets(self.marker, self.pipe)

    def close(self, grace: float) -> None:
        """Ask LibreOffice to end (closing the bridge's stdin does), then ``stop``: whatever has
        not ended within ``grace`` seconds is killed."""
        if self._bridge is not None and self._bridge.stdin is not None:
            with contextlib.suppress(OSError):
                self._bridge.stdin.close()
            deadline = time.monotonic() + grace
            for proc in (self._bridge, self._office):
                with contextlib.suppress(subprocess.TimeoutExpired):
                    if proc is not None:
                        proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        self.stop()
