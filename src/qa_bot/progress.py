"""A sync's progress on stderr, from the first file read: a live bar on a terminal, else a plain
line every `every` seconds (for logs and cron mail; a quick run prints none)."""

from __future__ import annotations

import threading
import time
from typing import TextIO

from .indexer import Step

UNITS = {"reading": "files", "embedding": "chunks"}


def describe(step: Step) -> str:
    what = f"{step.stage} {UNITS[step.stage]}: {step.done}/{step.total}"
    return f"{what} ({step.current})" if step.current else what


class SyncProgress:
    """Call it with each Step inside `with`; it shows the latest one."""

    def __init__(self, console, every: float = 10.0):
        self.console = console  # a rich Console on stderr
        self.every = every
        self._last: Step | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._bar = self._ticker = None
        self._tasks: dict[str, int] = {}

    def __enter__(self) -> SyncProgress:
        if self.console.is_terminal:
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                                       TimeRemainingColumn)

            self._bar = Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[unit]}"),
                TimeElapsedColumn(), TimeRemainingColumn(), TextColumn("{task.fields[current]}"),
                console=self.console, transient=True,
            )
            self._bar.start()
        else:  # a line even while one big file is read: nothing else would show the run is alive
            self._ticker = threading.Thread(target=self._tick, name="qa-bot-progress", daemon=True)
            self._ticker.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._bar is not None:
            self._bar.stop()
        if self._ticker is not None:
            self._ticker.join()

    def __call__(self, step: Step) -> None:
        with self._lock:
            self._last = step
        if self._bar is not None:
            if step.stage not in self._tasks:
                self._tasks[step.stage] = self._bar.add_task(step.stage, total=step.total, unit=UNITS[step.stage],
                                                             current="")
            self._bar.update(self._tasks[step.stage], completed=step.done, total=step.total, current=step.current)

    def _tick(self) -> None:
        started = time.monotonic()
        while not self._stop.wait(self.every):
            with self._lock:
                step = self._last
            if step is not None:
                out: TextIO = self.console.file
                out.write(f"{describe(step)}, {time.monotonic() - started:.0f} s\n")
                out.flush()
