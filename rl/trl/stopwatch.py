"""`Stopwatch`: wall-clock seconds per named section, kept by the trainer and the sampler for the cost figures.

watch = Stopwatch()
with watch.section("observe"):
    ...
watch.seconds["observe"], watch.calls["observe"], watch.total()
"""

from __future__ import annotations

import time
from collections import defaultdict


class Stopwatch:
    """Accumulates wall-clock seconds per named section: `with watch.section("observe"): ...`."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    def section(self, name: str) -> _Section:
        return _Section(self, name)

    def total(self) -> float:
        return float(sum(self.seconds.values()))

    def reset(self) -> None:
        self.seconds.clear()
        self.calls.clear()


class _Section:
    """One timed section (a plain context manager: a generator-based one costs more than what it times here)."""

    __slots__ = ("name", "start", "watch")

    def __init__(self, watch: Stopwatch, name: str) -> None:
        self.watch, self.name, self.start = watch, name, 0.0

    def __enter__(self) -> None:
        self.start = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self.watch.seconds[self.name] += time.perf_counter() - self.start
        self.watch.calls[self.name] += 1
