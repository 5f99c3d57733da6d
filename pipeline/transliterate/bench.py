"""How fast the stage transliterates: ``camps bench --only transliterate``."""

from __future__ import annotations

import resource
import time

from pipeline import synthetic
from pipeline.names import kana_of_cyrillic
from pipeline.transliterate.corpus import geonames_places, russian_names
from pipeline.transliterate.model import Model, build_model
from pipeline.transliterate.params import TransliterateParams
from pipeline.transliterate.stage import _PARALLEL_MIN, _transliterate_all


def bench(
    n: int = 100_000, params: TransliterateParams | None = None, model: Model | None = None
) -> dict[str, float]:
    """Distinct names per second on ``n`` synthetic names, with a model that answered none yet.

    Times what :func:`~pipeline.transliterate.stage.run` does for each distinct name
    (all added columns), in ``params.workers`` processes when there are enough names.
    ``cpu_seconds`` is the processor time of that work, this process's and its
    workers' (user and system), so ``per_cpu_second`` compares runs on a busy
    machine, where the wall-clock rate depends on the other jobs.
    Without ``model`` a fresh one is built first (``build_seconds``, not in the rate),
    so no answer is remembered from before.

    Names are the katakana of GeoNames Russian names (:func:`kana_of_cyrillic`)
    and the register spellings of :mod:`pipeline.synthetic`, all distinct.
    """
    p = params or TransliterateParams()
    started = time.perf_counter()
    if model is None:
        model = build_model()  # a one-off cost, not per name
    build_seconds = time.perf_counter() - started
    base = sorted(
        {kana_of_cyrillic(n) for _, _, names, *_ in geonames_places() for n in russian_names(names)}
    )
    names = [name for name, _ in synthetic.distinct_spellings(base, n)]
    cpu = _cpu_seconds()
    started = time.perf_counter()
    _transliterate_all(names, p, model)  # what run() does: all columns, in p.workers processes
    seconds = time.perf_counter() - started
    cpu = _cpu_seconds() - cpu
    return {
        "names": len(names),
        "workers": p.workers if len(names) >= _PARALLEL_MIN else 1,
        "seconds": round(seconds, 2),
        "per_second": round(len(names) / seconds),
        "cpu_seconds": round(cpu, 2),
        "per_cpu_second": round(len(names) / cpu) if cpu > 0 else 0,
        "build_seconds": round(build_seconds, 2),
    }


def _cpu_seconds() -> float:
    """User and system time of this process and of its finished (joined) workers."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime
