"""Progress of long loops: a tqdm bar on a terminal, plain periodic log lines elsewhere.

Under DVC, in a pipe or a log file a bar would write hundreds of carriage-return
frames, so when stderr is not a terminal (or the log is quieter than INFO) the
loop logs a line every twentieth of the way instead, with the rate. The bar
goes to stderr, beside the log; data never goes there.

May import only the standard library and tqdm (imported when a bar is drawn).
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def on_terminal(log: logging.Logger) -> bool:
    """Whether a bar is wanted: stderr is a terminal and ``log`` would show INFO."""
    isatty = getattr(sys.stderr, "isatty", None)
    return bool(isatty and isatty()) and log.isEnabledFor(logging.INFO)


def progress(
    items: Iterable[T],
    total: int,
    label: str,
    log: logging.Logger,
    unit: str = "names",
    min_step: int = 1,
) -> Iterator[T]:
    """Yield ``items``, showing how far along: a bar on a terminal, else log lines.

    ``total`` is how many items there are; ``label`` starts each line or the bar.
    Off a terminal, a line ``label: done/total unit in s (rate/s)`` is logged
    every twentieth of the way, but not more often than every ``min_step`` items,
    and at the end when a line was logged before.
    """
    if on_terminal(log) and total > 1:
        from tqdm import tqdm

        yield from tqdm(items, total=total, desc=label, unit=f" {unit}", file=sys.stderr)
        return
    started = time.perf_counter()
    step = max(1, min_step, total // 20)
    for done, item in enumerate(items, start=1):
        yield item
        if done % step == 0 or (done == total and total >= step):
            elapsed = time.perf_counter() - started
            rate = done / max(elapsed, 1e-9)
            log.info("%s: %d/%d %s in %.1f s (%.0f/s)", label, done, total, unit, elapsed, rate)
