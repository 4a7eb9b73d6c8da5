"""
Progress of a long command: a bar on a terminal (tqdm), otherwise a line per
10 %, so that CI and platform logs get ten lines, not megabytes of carriage
returns.
"""

from __future__ import annotations

import sys
import threading
from typing import TextIO

from tqdm import tqdm


class Progress:
    """Count finished items of a known total, drawn for the kind of output."""

    def __init__(self, total: int, *, label: str, stream: TextIO | None = None):
        self.total, self.label, self.done = total, label, 0
        self.stream = stream or sys.stderr
        self._lock = threading.Lock()
        self._tenths = 0
        interactive = getattr(self.stream, "isatty", lambda: False)()
        self._bar = (
            tqdm(total=total, desc=label, unit="file", file=self.stream)
            if interactive
            else None
        )

    def advance(self) -> None:
        """Count one more item finished (from any thread)."""
        with self._lock:
            self.done += 1
            if self._bar is not None:
                self._bar.update(1)
                return
            tenths = self.done * 10 // max(self.total, 1)
            if tenths > self._tenths:
                self._tenths = tenths
                self.stream.write(
                    f"{self.label}: {tenths * 10} % ({self.done}/{self.total})\n"
                )
                self.stream.flush()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
