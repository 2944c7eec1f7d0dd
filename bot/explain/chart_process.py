"""The break-even chart drawn in a child process, never in a serving worker.

matplotlib takes about 50 MB that a worker would keep for good after its first chart,
and importing it costs about a second of CPU. So one child per worker draws the charts:
it starts on the first chart, draws the next ones at once (no new import), and exits
after `IDLE_S` without work or after `MAX_CHARTS` charts, giving all its memory back.

The protocol on the child's pipes is framed: the parent writes an 8-byte big-endian
length and the decision as JSON (`Decision.to_dict`); the child answers `OK` or `ER`, an
8-byte length, then the PNG or the error text. A child that hangs past the timeout is
killed; one that dies is replaced on the next chart.
"""

from __future__ import annotations

import json
import os
import selectors
import struct
import subprocess
import sys
import tempfile
import threading
import time
from typing import IO

from bot.engine.decision import Decision

#: The first chart takes about a second (most of it importing matplotlib); past this, give up.
TIMEOUT_S = 30.0
#: A child with no chart to draw for this long exits (its memory goes back to the system).
IDLE_S = 30.0
#: A child exits after this many charts, so nothing it leaks can grow for long.
MAX_CHARTS = 200

_LENGTH = struct.Struct(">Q")


class ChartFailed(RuntimeError):
    """The child could not draw the chart (its error or stderr's last line says why)."""


class _ChartChild:
    """The one chart-drawing child of this process, started on demand."""

    def __init__(self, idle_s: float = IDLE_S, max_charts: int = MAX_CHARTS) -> None:
        self.idle_s = idle_s
        self.max_charts = max_charts
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None
        self._drawn = 0
        self._idle_timer: threading.Timer | None = None

    @property
    def pid(self) -> int | None:
        """The running child's pid, None when there is none (for tests and the bench)."""
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    def draw(self, payload: bytes, timeout: float) -> bytes:
        deadline = time.monotonic() + timeout
        with self._lock:
            if self._idle_timer is not None:
                self._idle_timer.cancel()
            proc = self._running()
            try:
                assert proc.stdin is not None and proc.stdout is not None
                proc.stdin.write(_LENGTH.pack(len(payload)) + payload)
                proc.stdin.flush()
                kind = _read_exactly(proc.stdout, 2, deadline)
                body = _read_exactly(proc.stdout, _LENGTH.unpack(
                    _read_exactly(proc.stdout, _LENGTH.size, deadline))[0], deadline)
            except TimeoutError as exc:
                self._stop()
                raise ChartFailed(f"drawing the chart took over {timeout:g} s") from exc
            except (OSError, EOFError, ValueError) as exc:
                reason = self._stderr_tail() or f"the chart process stopped ({exc})"
                self._stop()
                raise ChartFailed(reason) from exc
            self._drawn += 1
            if self._drawn >= self.max_charts:
                self._stop()
            else:
                self._idle_timer = threading.Timer(self.idle_s, self._stop_if_idle)
                self._idle_timer.daemon = True
                self._idle_timer.start()
        if kind != b"OK" or not body.startswith(b"\x89PNG"):
            raise ChartFailed(body.decode(errors="replace").strip() or "no image came back")
        return body

    def _running(self) -> subprocess.Popen[bytes]:
        if self._proc is not None and self._proc.poll() is None:
            return self._proc
        self._stop()
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the child
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "bot.explain.chart_process"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr)
        self._drawn = 0
        return self._proc

    def _stderr_tail(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        lines = self._stderr.read().decode(errors="replace").strip().splitlines()
        return lines[-1] if lines else ""

    def _stop_if_idle(self) -> None:
        if self._lock.acquire(blocking=False):
            try:
                self._stop()
            finally:
                self._lock.release()

    def _stop(self) -> None:
        """End the child: EOF on its stdin makes it exit; kill it if it does not at once."""
        proc, self._proc = self._proc, None
        if proc is not None:
            for pipe in (proc.stdin, proc.stdout):
                try:
                    if pipe is not None:
                        pipe.close()
                except OSError:
                    pass
            try:
                proc.wait(timeout=1)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None


def _read_exactly(stream: IO[bytes], size: int, deadline: float) -> bytes:
    """`size` bytes from the child's stdout, TimeoutError past `deadline`, EOFError if
    the child closed it first."""
    fd = stream.fileno()
    chunks: list[bytes] = []
    left = size
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while left:
            wait = deadline - time.monotonic()
            if wait <= 0 or not selector.select(wait):
                raise TimeoutError
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                raise EOFError("the chart process closed its output")
            chunks.append(chunk)
            left -= len(chunk)
    return b"".join(chunks)


_CHILD = _ChartChild()


def render_chart_png_isolated(decision: Decision, timeout: float = TIMEOUT_S) -> bytes:
    """The chart as PNG bytes, drawn in this process's chart child. ValueError when no
    volume was given (as `render_chart_png`), ChartFailed when the child fails or times
    out."""
    if not decision.has_volume:
        raise ValueError("no chart without prompt_tokens and monthly_calls")
    return _CHILD.draw(json.dumps(decision.to_dict()).encode(), timeout)


def chart_child_pid() -> int | None:
    """The pid of this process's chart child while one runs."""
    return _CHILD.pid


def _serve(source: IO[bytes], sink: IO[bytes]) -> int:
    """The child's loop: one framed decision in, one framed PNG (or error) out, until EOF."""
    from bot.explain.chart import render_chart_png

    while True:
        header = source.read(_LENGTH.size)
        if len(header) < _LENGTH.size:
            return 0
        payload = source.read(_LENGTH.unpack(header)[0])
        try:
            kind, body = b"OK", render_chart_png(Decision.from_dict(json.loads(payload)))
        except Exception as exc:  # noqa: BLE001 - the parent reports it; the child goes on
            kind, body = b"ER", f"{type(exc).__name__}: {exc}".encode()
        sink.write(kind + _LENGTH.pack(len(body)) + body)
        sink.flush()


if __name__ == "__main__":
    raise SystemExit(_serve(sys.stdin.buffer, sys.stdout.buffer))
