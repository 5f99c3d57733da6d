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
* :mod:`~pipeline.serve.bench`: latency, throughput and start-up measured.

A tool like :mod:`pipeline.lookup`: it may import the stages' public functions
(transliterate, reconcile, geocode's ``place_point``, export's LPF citations),
:mod:`pipeline.lookup`, the shared modules, starlette and uvicorn; no stage imports
it, and it never imports click.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from pipeline.serve.app import make_app
from pipeline.serve.entities import PROPERTIES, TYPES, Entities, symbol_classes_of
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


def run(service: Service, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve until Ctrl-C or SIGTERM (uvicorn, one process: the model is loaded once)."""
    import uvicorn

    config = uvicorn.Config(
        make_app(service),
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        timeout_keep_alive=5,
        limit_concurrency=200,
        h11_max_incomplete_event_size=64 * 1024,
    )
    logger.info("serve: http://%s:%d/reconcile", host, port)
    uvicorn.Server(config).run()


__all__ = [
    "PROPERTIES",
    "TYPES",
    "Ask",
    "Entities",
    "Limits",
    "RequestError",
    "Service",
    "load_service",
    "make_app",
    "run",
    "symbol_classes_of",
]
