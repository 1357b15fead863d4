"""The bounded worker pool: answers run off the event loop, and a full queue says "busy"."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


class Busy(Exception):
    """Every worker is busy and the queue is full."""


class AnswerPool:
    """`workers` threads answer; up to `queue_size` more questions wait; beyond that, Busy."""

    def __init__(self, workers: int, queue_size: int):
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="qa-answer")
        self.capacity = workers + queue_size
        self.pending = 0  # only touched on the event loop, so no lock

    def reserve(self) -> Slot:
        """Claim a place before telling Discord anything, so "busy" can be the first reply."""
        if self.pending >= self.capacity:
            raise Busy
        self.pending += 1
        return Slot(self)

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


class Slot:
    """A claimed place in the pool; released once its work is done or when the `with` ends."""

    def __init__(self, pool: AnswerPool):
        self._pool: AnswerPool | None = pool

    async def run(self, fn: Callable[..., T], *args) -> T:
        pool = self._pool
        if pool is None:
            raise RuntimeError("slot already used")
        try:
            return await asyncio.get_running_loop().run_in_executor(pool._executor, fn, *args)
        finally:
            self.release()

    def release(self) -> None:
        if self._pool is not None:
            self._pool.pending -= 1
            self._pool = None

    def __enter__(self) -> Slot:
        return self

    def __exit__(self, *exc) -> None:
        self.release()
