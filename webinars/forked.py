"""
Running one function in a short-lived child process forked from this one.

Decoding a photo needs memory in proportion to its pixels (a 40 Mpx WebP
takes about 450 MB), and a Python process rarely gives freed memory back to
the system: a gunicorn worker that decoded one large photo would stay large.
webinars.photos decodes in a child instead; the worker receives only the
encoded photo and a small copy of its pixels, and the child's memory is the
system's again the moment it exits. A decoder that crashes, or a child the
kernel's OOM killer ends, takes only the child with it.

The child is a fork: it has this process's settings, modules and monkey
patches, and runs the one function on the calling thread's data. It never
touches the database, sockets or files it inherited, and leaves by
os._exit(), so nothing it inherited is flushed or closed twice.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import sys
import time
from collections.abc import Callable
from typing import TypeVar

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
    return hasattr(os, "fork") and sys.platform.startswith("linux")


def call(function: Callable[..., Result], *args, timeout: float = 120) -> Result:
    """
    Return function(*args) run in a child, or raise what it raised there;
    a child still running after timeout seconds is killed (ChildFailed).
    """
    reading, writing = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: answer through the pipe, whatever happens
        status = 1
        try:
            # Nothing inherited but the standard streams and the pipe: a fork
            # on another thread must not hold this pipe open either.
            os.closerange(3, writing)
            os.closerange(writing + 1, os.sysconf("SC_OPEN_MAX"))
            try:
                answer = (True, function(*args))
            except Exception as exc:  # raised again in the parent
                answer = (False, exc)
            try:
                message = pickle.dumps(answer, pickle.HIGHEST_PROTOCOL)
            except Exception as exc:  # an unpicklable exception: say what it was
                message = pickle.dumps((False, RuntimeError(repr(exc))))
            with os.fdopen(writing, "wb") as pipe:
                pipe.write(message)
            status = 0
        finally:
            os._exit(status)
    os.close(writing)
    try:
        message = _read_all(reading, time.monotonic() + timeout)
    except TimeoutError:
        os.kill(pid, signal.SIGKILL)
        message = b""
    finally:
        os.close(reading)
        _, status = os.waitpid(pid, 0)
    if not message:
        raise ChildFailed(status)
    succeeded, value = pickle.loads(message)
    if succeeded:
        return value
    raise value


def _read_all(fd: int, deadline: float) -> bytes:
    chunks = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise TimeoutError
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
