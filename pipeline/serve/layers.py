"""``camps serve --review``: the web map's layers as the stages will write them, kept live.

The page draws the export's ``site/data/camps.js``, written from the geocoded
rows (``output/stages/geocoded.csv``). A review decision changes some of those
rows (every row the new override finds: all rows of the name, of its region, or
one record), so :class:`LiveLayers` keeps the rows in memory and, after each
decision, runs the stages' own functions on the rows it finds: the reconcile
stage's :func:`pipeline.reconcile.reconcile_rows`, the geocode stage's
:func:`pipeline.geocode.geocode_rows` (offline: the gazetteer, the override's
own point, the region centre) and the export's checks and
:func:`pipeline.export.site_data`. ``GET /review/layers`` answers the
collection the page then draws, the same as ``camps reconcile``, ``geocode``
and ``export`` would write under the overrides file as it now is.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pipeline import export as ex
from pipeline import geocode as geo
from pipeline import overrides as ov
from pipeline import reconcile as rc
from pipeline.io import read_csv

logger = logging.getLogger(__name__)


class LiveLayers:
    """The geocoded rows of the published map, redone where a decision applies.

    ``rows_path`` is the geocoded CSV the served site was exported from;
    ``overrides`` the decisions the service starts with (the rows they find are
    redone at once, so decisions of an earlier session show too).
    """

    def __init__(
        self,
        rows_path: Path,
        index: rc.Index,
        params: rc.ReconcileParams,
        overrides: Sequence[ov.Override],
        title: str = "",
        doubt: geo.Doubt | None = None,
    ) -> None:
        self.path = Path(rows_path)
        columns, rows = read_csv(self.path, required=ex.REQUIRED, min_rows=1)
        self.rows = list(ex.without_controls(columns, rows, self.path)[1])
        self.index = index
        self.params = params
        self.title = title
        self.offline = geo.OfflinePlaces(index.gazetteer, doubt)
        self._lock = threading.Lock()
        self._data: dict[str, Any] | None = None
        self.update(overrides, overrides)

    def update(self, overrides: Sequence[ov.Override], decided: Sequence[ov.Override]) -> int:
        """Redo the rows ``decided`` find, under all ``overrides``; return how many changed.

        The rows are matched again (:func:`pipeline.reconcile.reconcile_rows`), then
        placed (:func:`pipeline.geocode.geocode_rows`), as the stages place them.
        """
        found = ov.finder(decided)
        with self._lock:
            hit = [row for row in self.rows if found.find_row(row) is not None]
            if not hit:
                return 0
            rc.reconcile_rows(hit, self.index, overrides, self.params)
            tally = geo.geocode_rows(hit, self.offline, overrides, source=str(self.path))
            for problem in tally.problems:
                logger.warning("serve --review: %s", problem)
            self._data = None
        logger.info("serve --review: %d row(s) of %s redrawn", len(hit), self.path)
        return len(hit)

    def collection(self) -> dict[str, Any]:
        """The FeatureCollection of ``site/data/camps.js`` for the rows as they now are."""
        with self._lock:
            if self._data is None:
                placed = ex.prepare(self.rows, self.path)
                camps = [p for p in placed if p.point is not None]
                self._data = ex.site_data(camps, self.title)
            return self._data
