"""``camps serve``: the matcher as a W3C reconciliation service (OpenRefine) and a lookup API.

One long-lived process loads the gazetteer index, the overrides and the
transliteration model once (:func:`load_service`) and answers over HTTP
(:func:`run`, uvicorn on 127.0.0.1 unless told otherwise). Its files:

* :mod:`~pipeline.serve.entities`: the places as the API shows them (types,
  descriptions, extension values, Linked Places, the preview card, suggest);
* :mod:`~pipeline.serve.service`: the core, framework-free: a name is
  transliterated and reconciled by the same functions as the stages;
* :mod:`~pipeline.serve.protocol`: the API's payloads parsed and checked;
* :mod:`~pipeline.serve.app`: the Starlette routes, CORS, JSONP, limits;
* :mod:`~pipeline.serve.review`: ``--review``: the review queue and decisions
  for the web map, written through :mod:`pipeline.review`;
* :mod:`~pipeline.serve.layers`: ``--review``: the web map's layers redrawn
  after each decision by the stages' own functions;
* :mod:`~pipeline.serve.bench`: latency, throughput and start-up measured.

A tool like :mod:`pipeline.lookup`: it may import the stages' public functions
(transliterate, reconcile, geocode's ``place_point`` and ``geocode_rows``,
export's LPF citations, row checks and ``site_data``),
:mod:`pipeline.lookup`, :mod:`pipeline.review`, the shared modules, starlette
and uvicorn; no stage imports it, and it never imports click.
"""

from __future__ import annotations

import contextlib
import logging
import time
from pathlib import Path

from pipeline.serve.app import make_app
from pipeline.serve.entities import PROPERTIES, TYPES, Entities, symbol_classes_of
from pipeline.serve.review import ReviewFiles
from pipeline.serve.service import Ask, Limits, RequestError, Service

logger = logging.getLogger(__name__)


def load_service(
    gazetteer_dir: Path,
    overrides_path: Path,
    params_path: Path,
    rows_path: Path | None = None,
    limits: Limits | None = None,
) -> Service:
    """Build everything a request needs, once: index, overrides, model, entities.

    ``rows_path`` is a published stage CSV (``output/stages/geocoded.csv``) whose
    decided rows give the symbol classes of their places; absent, none is known.
    """
    from pipeline import overrides, reconcile, transliterate
    from pipeline.io import read_csv
    from pipeline.params import load_section

    started = time.perf_counter()
    t_params = load_section(params_path, "transliterate", transliterate.TransliterateParams)
    r_params = load_section(params_path, "reconcile", reconcile.ReconcileParams)
    index = reconcile.load_index(Path(gazetteer_dir))
    found = overrides.read(Path(overrides_path), index.gazetteer.places)
    loaded = time.perf_counter()
    model = transliterate.default_model()
    built = time.perf_counter()
    rows = read_csv(rows_path)[1] if rows_path is not None and Path(rows_path).exists() else []
    entities = Entities(index.gazetteer, symbol_classes_of(rows))
    logger.info(
        "serve: index %.1f s, model %.1f s, entities %.1f s",
        loaded - started,
        built - loaded,
        time.perf_counter() - built,
    )
    return Service(index, found, model, t_params, r_params, entities, limits)


def run(
    service: Service,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    site_dir: Path | None = None,
    review: ReviewFiles | None = None,
) -> None:
    """Serve until Ctrl-C or SIGTERM: uvicorn on one socket, in ``workers`` processes.

    The model and index are built once, here; extra workers are forked after
    that, so they share its memory instead of each spending seconds rebuilding
    it, and accept connections on the same socket (the kernel spreads them).
    Matching is CPU-bound Python, so one process uses one core: two workers on
    a 2-core machine answer about twice the queries per second. A worker ends
    when the parent does (Linux's parent-death signal) or at the parent's SIGTERM.
    """
    import gc
    import os
    import signal
    import socket

    import uvicorn

    from pipeline import pool

    # proto IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say
    # so, and without it Nagle's algorithm holds each response's body until the
    # client's delayed ACK of its headers, 40 ms later, on every keep-alive request.
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    config = uvicorn.Config(
        make_app(service, site_dir, review),
        log_level="warning",
        access_log=False,
        timeout_keep_alive=5,
        limit_concurrency=200,
        h11_max_incomplete_event_size=64 * 1024,
    )
    children: list[int] = []
    if workers > 1 and pool.can_fork():
        gc.freeze()  # keep the collector off the shared pages of the model and index
        for _ in range(workers - 1):
            pid = os.fork()
            if pid == 0:  # a worker: serve the same socket, die with the parent
                _die_with_parent()
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                try:
                    uvicorn.Server(config).run(sockets=[sock])
                finally:
                    os._exit(0)
            children.append(pid)
    logger.info("serve: http://%s:%d/reconcile, %d process(es)", host, port, 1 + len(children))
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        for pid in children:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
        sock.close()


def _die_with_parent() -> None:
    """Ask Linux to send this process SIGTERM when its parent dies (no-op elsewhere)."""
    import ctypes
    import signal

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


__all__ = [
    "PROPERTIES",
    "TYPES",
    "Ask",
    "Entities",
    "Limits",
    "RequestError",
    "ReviewFiles",
    "Service",
    "load_service",
    "make_app",
    "run",
    "symbol_classes_of",
]
