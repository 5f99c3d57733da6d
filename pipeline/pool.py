"""The one process pool of the pipeline: forked workers that cannot hang a run.

Transliterate and reconcile both spread a big register's distinct names over
``workers`` processes. Both go through :func:`map_chunks`, which owns the three
things that made runs hang or die with a traceback:

- The CLI turns SIGTERM into ``SystemExit`` so that atomic writes unwind. A forked
  worker inherits that handler; a pool that shuts down by sending SIGTERM then
  finds a worker that raises inside the pool's queue lock and blocks forever.
  Every worker therefore resets SIGTERM and SIGINT to their defaults first.
- In this process, an exception raised by a signal handler can land just after a
  lock is taken and before the ``with`` that releases it (the futures' own locks:
  the pool's shutdown then waited on one for ever, about one SIGTERM in 130).
  While the pool is waited on, SIGTERM and SIGINT are only noted; the wait looks
  at them every tenth of a second, stops the workers, and the signal's own handler
  runs once the pool is shut down.
- A worker killed from outside (the OOM killer, ``kill -9``) makes
  :class:`concurrent.futures.process.BrokenProcessPool`, raised here as a
  :class:`~pipeline.errors.PipelineError` with the fix (exit 1), never a hang.
- Progress: one log line every twentieth of the work.

Workers are forked, so they share the model or index the parent built before
the call instead of each spending seconds rebuilding it. Where fork is not
available the chunks run in this process.

Imports only :mod:`pipeline.errors`: any stage may use it.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import signal
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from pipeline.errors import PipelineError
from pipeline.progress import progress

logger = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


def can_fork() -> bool:
    """Whether this platform can fork workers that share the parent's memory."""
    return "fork" in multiprocessing.get_all_start_methods()


def _worker_start(initializer: Callable[[], None] | None) -> None:
    # Default signal handling: the pool's shutdown (SIGTERM) and Ctrl-C end a
    # worker at once instead of running the CLI's handler inside the pool's locks.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    if initializer is not None:
        initializer()


def map_chunks(
    func: Callable[[T], R],
    chunks: Sequence[T],
    workers: int,
    *,
    label: str,
    initializer: Callable[[], None] | None = None,
    batch: int = 1,
) -> Iterator[R]:
    """Yield ``func(chunk)`` for each chunk, in order, on ``workers`` forked processes.

    ``batch`` chunks go to a worker at a time (fewer round trips; a worker that
    takes consecutive chunks reuses its caches). With one worker, or no fork,
    the chunks run here, with the same progress lines.

    Raises
    ------
    PipelineError
        When a worker process dies (killed, out of memory): the run stops with
        exit 1 and says how to rerun with fewer workers.
    """
    results: Iterable[R]
    if workers <= 1 or len(chunks) <= 1 or not can_fork():
        results = map(func, chunks)
        yield from progress(results, len(chunks), label, logger, unit="chunks")
        return
    context = multiprocessing.get_context("fork")
    with _signals_noted(label) as noted:
        executor = ProcessPoolExecutor(
            workers, mp_context=context, initializer=_worker_start, initargs=(initializer,)
        )
        try:
            results = _results(executor, func, chunks, max(1, batch), noted)
            yield from progress(results, len(chunks), label, logger, unit="chunks")
        except BrokenProcessPool:
            raise PipelineError(
                f"{label}: a worker process died (killed, or out of memory): "
                f"rerun with {label}.workers: 1 in params.yaml, or free memory"
            ) from None
        except BaseException:
            _terminate_workers(executor)  # SIGTERM, Ctrl-C or an error: stop now, not after
            raise
        finally:
            # cancel_futures: after an error or an interrupt nothing more is started.
            executor.shutdown(wait=True, cancel_futures=True)


class _Signalled(Exception):
    """A noted SIGTERM or SIGINT: the pool stops, then the signal's handler runs."""


def _results(
    executor: ProcessPoolExecutor,
    func: Callable[[T], R],
    chunks: Sequence[T],
    batch: int,
    noted: list[int],
) -> Iterator[R]:
    """Each chunk's result in order, ``batch`` chunks to a worker at a time; raises
    :class:`_Signalled` within a tenth of a second of a signal being noted."""
    futures: list[Future[list[R]]] = [
        executor.submit(_run_batch, func, chunks[start : start + batch])
        for start in range(0, len(chunks), batch)
    ]
    for future in futures:
        done: list[R] | None = None
        while done is None:
            if noted:
                raise _Signalled
            with contextlib.suppress(FutureTimeout):
                done = future.result(timeout=0.1)
        yield from done


def _run_batch(func: Callable[[T], R], batch: Sequence[T]) -> list[R]:
    return [func(chunk) for chunk in batch]


@contextlib.contextmanager
def _signals_noted(label: str) -> Iterator[list[int]]:
    """Note SIGTERM and SIGINT instead of acting on them (in the main thread, where
    handlers live); on leaving, with the handlers back, send a noted one again."""
    noted: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield noted
        return
    kept: dict[int, Any] = {}
    for number in (signal.SIGTERM, signal.SIGINT):
        handler = signal.getsignal(number)
        if handler is not signal.SIG_IGN and handler is not None:
            kept[number] = handler
            signal.signal(number, lambda signum, _frame: noted.append(signum))
    try:
        yield noted
    except _Signalled:
        pass  # the signal's own handler speaks for it, below
    finally:
        for kept_number, handler in kept.items():
            signal.signal(kept_number, handler)
        if noted:
            signal.raise_signal(noted[0])  # its handler runs now (SystemExit, Ctrl-C)
            raise PipelineError(f"{label}: stopped by signal {noted[0]}")


def _terminate_workers(executor: ProcessPoolExecutor) -> None:
    # Python 3.14 has executor.terminate_workers(); before it the processes are
    # only reachable through this attribute, present since 3.2.
    for process in list((getattr(executor, "_processes", None) or {}).values()):
        process.terminate()
