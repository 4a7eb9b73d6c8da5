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

    def __init__(self, status: int):
        self.status = status
        if os.WIFSIGNALED(status):
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


def call(function: Callable[..., Result], *args, timeout: float = 120) -> Result:
    """Return function(*args) run in a child, or raise what it raised there."""
    return start(function, *args, timeout=timeout).result()


def start(function: Callable[..., Result], *args, timeout: float = 120):
    """
    Start function(*args) in a child and return at once; Child.result()
    waits for it. A child still running after timeout seconds is killed.
    """
    answer = os.memfd_create("forked-answer", os.MFD_CLOEXEC)
    done_reading, done_writing = os.pipe()  # closed by the child's exit
    pid = os.fork()
    if pid == 0:
        _child(function, args, answer, done_writing)
    os.close(done_writing)
    return Child(pid, answer, done_reading, time.monotonic() + timeout)


class Child(Generic[Result]):
    """A started child: result() returns its value or raises its exception."""

    def __init__(self, pid: int, answer: int, done: int, deadline: float):
        self.pid, self.answer, self.done, self.deadline = pid, answer, done, deadline

    def result(self) -> Result:
        try:
            left = max(self.deadline - time.monotonic(), 0)
            if not select.select([self.done], [], [], left)[0]:
                os.kill(self.pid, signal.SIGKILL)
            _, status = os.waitpid(self.pid, 0)
            message = _read(self.answer)
        finally:
            os.close(self.done)
            os.close(self.answer)
        if not message or status != 0:
            raise ChildFailed(status)
        succeeded, value = pickle.loads(message)
        if succeeded:
            return value
        raise value


def _child(function, args, answer: int, done: int) -> None:
    status = 1
    try:
        # Nothing inherited but the standard streams, the answer and the
        # pipe whose closing tells the parent this child has exited.
        keep = sorted({answer, done})
        os.closerange(3, keep[0])
        os.closerange(keep[0] + 1, keep[1])
        os.closerange(keep[1] + 1, os.sysconf("SC_OPEN_MAX"))
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
