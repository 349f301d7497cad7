"""Progress of long operations, reported to whoever is watching in this process.

Services call :func:`report`; the CLI installs a reporter (a rich progress bar) around an
in-process call with :func:`reporting`. Nobody watching costs one context-variable read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

Reporter = Callable[[str, float], None]

_current: ContextVar[Reporter | None] = ContextVar("modelward_progress", default=None)


def report(phase: str, fraction: float) -> None:
    """Say that ``phase`` is ``fraction`` (0..1) done."""
    reporter = _current.get()
    if reporter is not None:
        reporter(phase, fraction)


def current() -> Reporter | None:
    return _current.get()


@contextmanager
def reporting(reporter: Reporter) -> Iterator[None]:
    token = _current.set(reporter)
    try:
        yield
    finally:
        _current.reset(token)
