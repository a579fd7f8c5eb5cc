"""Live progress of long statements (a model search) on one line of stderr.

The session calls a :class:`ProgressLine` with whatever progress object the running operator reports,
today a :class:`paqdb.search.base.SearchProgress`. The line is read from the attributes such an object
is known to have; an object with none of them is shown as ``str(obj)``, so a new kind of progress never
breaks the shell.
"""

from __future__ import annotations

import shutil
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, TextIO

_CLEAR_LINE = "\r\x1b[K"


def _number(value: Any) -> float | None:
    try:
        return float(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


def _seconds_text(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s"


def describe_progress(progress: Any) -> str:
    """One line describing a progress object.

    >>> from types import SimpleNamespace
    >>> describe_progress(SimpleNamespace(trials_done=3, best_score=0.875, best_family="logistic",
    ...     metric="accuracy", seconds_elapsed=4.2, seconds_left=25.8, trials_left=None))
    'search: 3 trials, best accuracy 0.8750 (logistic), 4.2 s elapsed, 25.8 s left'
    >>> describe_progress("loading")
    'loading'
    """
    known = ("trials_done", "best_score", "best_family", "seconds_elapsed", "seconds_left", "trials_left")
    if not any(hasattr(progress, name) for name in known):
        return str(progress)
    parts: list[str] = []
    trials = getattr(progress, "trials_done", None)
    trials_left = getattr(progress, "trials_left", None)
    if trials is not None:
        text = f"{trials} trial" + ("" if trials == 1 else "s")
        if trials_left is not None:
            text += f" ({trials_left} left)"
        parts.append(text)
    score = _number(getattr(progress, "best_score", None))
    if score is not None:
        metric = getattr(progress, "metric", None) or "score"
        text = f"best {metric} {score:.4f}"
        family = getattr(progress, "best_family", None)
        if family:
            text += f" ({family})"
        parts.append(text)
    elapsed = _number(getattr(progress, "seconds_elapsed", None))
    if elapsed is not None:
        parts.append(f"{_seconds_text(elapsed)} elapsed")
    left = _number(getattr(progress, "seconds_left", None))
    if left is not None:
        parts.append(f"{_seconds_text(max(0.0, left))} left")
    return "search: " + ", ".join(parts)


class ProgressLine:
    """A progress callback that keeps one status line on a stream (stderr by default).

    On a terminal the line is redrawn in place at every report and erased by :meth:`clear`; on anything
    else a line is written at most once every ``interval`` seconds and nothing is erased. Reports may come
    from any thread. A report that cannot be shown is dropped: progress must never fail a statement.

    Args:
        stream: where the line goes.
        is_terminal: whether ``stream`` is a terminal (asked of the stream when None).
        interval: the least seconds between two lines when not on a terminal.
        clock: the time source (for tests).
    """

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        is_terminal: bool | None = None,
        interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.is_terminal = is_terminal if is_terminal is not None else _isatty(self.stream)
        self.interval = interval
        self.clock = clock
        self._lock = threading.Lock()
        self._drawn = False
        self._last_line_at: float | None = None

    def __call__(self, progress: Any) -> None:
        """Show ``progress``."""
        try:
            text = describe_progress(progress).replace("\n", " ")
            with self._lock:
                if self.is_terminal:
                    width = shutil.get_terminal_size((80, 24)).columns
                    self.stream.write(_CLEAR_LINE + text[: max(1, width - 1)])
                    self._drawn = True
                else:
                    now = self.clock()
                    if self._last_line_at is not None and now - self._last_line_at < self.interval:
                        return
                    self._last_line_at = now
                    self.stream.write(text + "\n")
                self.stream.flush()
        except Exception:  # a display problem must not abort the search
            pass

    def clear(self) -> None:
        """Erase the line (on a terminal) and start afresh for the next statement."""
        with self._lock:
            if self._drawn:
                try:
                    self.stream.write(_CLEAR_LINE)
                    self.stream.flush()
                except Exception:  # see __call__
                    pass
            self._drawn = False
            self._last_line_at = None


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


__all__ = ["ProgressLine", "describe_progress"]
