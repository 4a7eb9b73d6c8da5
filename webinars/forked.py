"""
Running one function in a short-lived child process forked from this one.

Decoding a photo needs memory in proportion to its pixels (a 40 Mpx WebP
takes about 600 MB), and a Python process rarely gives freed memory back to
the system: a gunicorn worker that decoded one large photo would stay large.
webinars.photos decodes in a child instead; the worker receives only the
encoded photo and a small copy of its pixels, and the child's memory is the
system's again the moment it exits. A decoder that crashes, or a child the
kernel's OOM killer ends, takes only the child with it.

The child is a fork: it has this process's settings, modules and monkey
patches, and runs the one function on the calling thread's data. It closes
every descriptor it inherited but its answer's, never touches the database
or sockets, and leaves by os._exit(), so nothing is flushed or closed twice.
Its answer (the value, or the exception, pickled) goes into an anonymous
memory file (memfd) that the parent reads once the child has exited: one
copy, no round trips through a pipe's small buffer.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import pickle
import select
import signal
import sys
import time
from collections.abc import Callable
from typing import Generic, TypeVar

Result = TypeVar("Result")


class ChildFailed(Exception):
    """The child ended without an answer: killed (out of memory, slow) or crashed."""

    def __init__(self, status: int | None):
        self.status = status
        if status is None:
            how = "was not reaped"
        elif os.WIFSIGNALED(status):
            how = f"was ended by signal {os.WTERMSIG(status)}"
        else:
            how = f"exited with status {os.waitstatus_to_exitcode(status)}"
        super().__init__(f"The child process {how} without an answer.")


def is_available() -> bool:
    """Whether this platform can fork safely (Linux; not macOS or Windows)."""
    return (
        hasattr(os, "fork")
        and hasattr(os, "memfd_create")
        and (sys.platform.startswith("linux"))
    )


def call(function: Callable[..., Result], *args, timeout: float = 45) -> Result:
    """Return function(*args) run in a child, or raise what it raised there."""
    return start(function, *args, timeout=timeout).result()


def start(function: Callable[..., Result], *args, timeout: float = 45):
    """
    Start function(*args) in a child and return at once; Child.result()
    waits for it, Child.kill() abandons it. A child still running after
    timeout seconds is killed. An OSError if the child cannot be started.
    """
    opened: list[int] = []
    try:
        opened.append(os.memfd_create("forked-answer", os.MFD_CLOEXEC))
        opened.extend(os.pipe())  # the write end is closed by the child's exit
        answer, done_reading, done_writing = opened
        parent = os.getpid()
        pid = os.fork()
    except BaseException:
        for fd in opened:
            os.close(fd)
        raise
    if pid == 0:
        _child(function, args, answer, done_writing, parent)
    os.close(done_writing)
    return Child(pid, answer, done_reading, time.monotonic() + timeout)


class Child(Generic[Result]):
    """A started child: result() returns its value or raises its exception."""

    def __init__(self, pid: int, answer: int, done: int, deadline: float):
        self.pid, self.answer, self.done, self.deadline = pid, answer, done, deadline
        self.status: int | None = None

    def result(self) -> Result:
        try:
            waiting = select.poll()
            waiting.register(self.done, select.POLLIN | select.POLLHUP)
            left = max(self.deadline - time.monotonic(), 0)
            if not waiting.poll(left * 1000):
                os.kill(self.pid, signal.SIGKILL)
            self._reap()
            message = _read(self.answer)
        finally:
            self.kill()
        if not message or self.status != 0:
            raise ChildFailed(self.status)
        succeeded, value = pickle.loads(message)
        if succeeded:
            return value
        raise value

    def kill(self) -> None:
        """End the child if it still runs, reap it, and close its descriptors."""
        if self.status is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            self._reap()
        for fd in (self.done, self.answer):
            if fd >= 0:
                os.close(fd)
        self.done = self.answer = -1

    def _reap(self) -> None:
        if self.status is None:
            _, self.status = os.waitpid(self.pid, 0)


# prctl(PR_SET_PDEATHSIG): looked up now, not in a child (no dlopen after fork).
_libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
PR_SET_PDEATHSIG = 1


def _child(function, args, answer: int, done: int, parent: int) -> None:
    status = 1
    try:
        # Killed with the worker (gunicorn may SIGKILL it): never an orphan.
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:
            os._exit(1)
        # Nothing inherited but the standard streams, the answer and the
        # pipe whose closing tells the parent this child has exited.
        for fd in [int(name) for name in os.listdir("/proc/self/fd")]:
            if fd > 2 and fd not in (answer, done):
                with contextlib.suppress(OSError):
                    os.close(fd)
        try:
            message = (True, function(*args))
        except Exception as exc:  # raised again in the parent
            message = (False, exc)
        try:
            data = pickle.dumps(message, pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # an unpicklable value or exception: say so
            data = pickle.dumps((False, RuntimeError(repr(exc))))
        view = memoryview(data)
        while view:
            view = view[os.write(answer, view) :]
        status = 0
    finally:
        os._exit(status)


def _read(fd: int) -> bytes:
    size = os.fstat(fd).st_size
    chunks, offset = [], 0
    while offset < size:
        chunk = os.pread(fd, size - offset, offset)
        if not chunk:
            break
        chunks.append(chunk)
        offset += len(chunk)
    return b"".join(chunks)
