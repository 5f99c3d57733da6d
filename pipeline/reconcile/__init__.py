"""Reconcile stage: tie each katakana camp name to a gazetteer place, with a score.

A name is only useful on a map once it is tied to the right settlement, and a
historian must see how sure we are. Every distinct (name, region hint) is matched
once against the whole built gazetteer by several signals, each reported as a
feature of the candidate in the shape of the W3C reconciliation API:

* ``name_exact``: the name in any script is a name of the place: the katakana
  against GeoNames' Japanese names, the Cyrillic candidates of the transliterate
  stage against Cyrillic names, its Latin candidates against Latin names;
* ``kana_similarity``: every Cyrillic gazetteer name is rendered in katakana by
  the Japanese conventions (:func:`pipeline.names.kana_of_cyrillic`) and
  compared with the input on :func:`pipeline.names.match_key` forms, exact
  or near (rapidfuzz, behind a bigram blocking index so that 10,000 names take
  seconds, not minutes);
* ``latin_similarity``: rapidfuzz between the Latin candidates (and romaji) and
  the place's Latin names, a weaker cross-check;
* ``partial_name``: only one word of a compound name matched (スパスク against
  Спасск-Дальний), which is a weaker claim than the whole name;
* ``soviet_name``: the name that matched was in use in 1945-1956 by its sourced
  period, such as Ворошилов (1935-1957), the names POWs heard (a name of another
  time, Никольск-Уссурийский -1935, does not count); among equal readings the
  name of the internment years wins;
* ``region``: the region hint in 1945 terms (チタ州…) puts the place inside (+1)
  or outside (-1) the unit of 1945;
* ``feature_type``: a feature word of the cell (駅, 炭鉱 …) agrees with the
  place's type (+1) or not (-1);
* ``population`` (log scale) and ``curated`` (a place of the historical gazetteer)
  as priors: a bare name means the larger, camp-related place more often;
* ``unique``: no distant place's name evidence comes near this one's (a name one
  place alone bears is surer than one shared with namesakes).

The region hint is the katakana prefix (チタ州…) and, when the raw file has one,
its English ``region`` column in 1945 terms ("Khabarovsk Krai (Amur Oblast)"),
the most specific unit named. A cell in Latin or Cyrillic letters is matched
against names in that script, not transliterated.

The features are scored by a logistic model fitted on data and calibrated
(:mod:`~pipeline.reconcile.model`, fitted by ``camps calibrate``), so the
``score`` reads as a probability, and the candidates of one name share it: their
scores sum to at most 1, the rest is "none of these". ``auto`` needs a high score *and* no rival: a
different place far away that scores nearly as well (the many Spassks and
Krasnaya Zaryas) sends the row to ``review``. Manual decisions in
``gazetteer/overrides.csv`` always win and survive reruns.

The package owns matching and deciding; it never transliterates: its input has
the transliterate stage's columns, and the tools that start from raw katakana
(:mod:`pipeline.lookup`, :mod:`pipeline.evaluate`) transliterate first. Its files,
each importing only those above it:

* :mod:`~pipeline.reconcile.params`: the ``reconcile`` section of params.yaml;
* :mod:`~pipeline.reconcile.index`: the gazetteer prepared for matching;
* :mod:`~pipeline.reconcile.query`: what the matcher knows about one name;
* :mod:`~pipeline.reconcile.matching`: the places some name signal connects to it;
* :mod:`~pipeline.reconcile.regions`: region hints and the units of 1945;
* :mod:`~pipeline.reconcile.model`: the learned, calibrated score model (verified JSON);
* :mod:`~pipeline.reconcile.scoring`: the features and the score;
* :mod:`~pipeline.reconcile.decision`: auto, review or unresolved, and overrides;
* :mod:`~pipeline.reconcile.camp_numbers`: a GUPVI camp number (第7地区) tied to
  its camp area from a raw file's ``gupvi_camp_no`` (``--camp-areas``);
* :mod:`~pipeline.reconcile.stage`: the stage's ``run`` over a CSV;
* :mod:`~pipeline.reconcile.bench`: matching speed on synthetic names.

It may import :mod:`pipeline.names`, :mod:`pipeline.places` (the built
gazetteer's records), :mod:`pipeline.area`, :mod:`pipeline.overrides`,
:mod:`pipeline.pool`, :mod:`pipeline.io`, :mod:`pipeline.records` and
:mod:`pipeline.errors`; never click, never another stage.
"""

from typing import TYPE_CHECKING

from pipeline import lazy
from pipeline.reconcile.bench import bench, synthetic_queries
from pipeline.reconcile.decision import Outcome, apply_override, decide, resolve
from pipeline.reconcile.index import Index, NameEntry, build_index, load_index
from pipeline.reconcile.matching import by_ear_places, gather, rank_evidence
from pipeline.reconcile.model import ScoreModel
from pipeline.reconcile.params import LATIN_EXACT, ReconcileParams
from pipeline.reconcile.query import (
    QUERY_COLUMNS,
    Query,
    make_query,
    queries_of_rows,
    query_of_row,
    split_list,
)
from pipeline.reconcile.regions import hinted_regions
from pipeline.reconcile.scoring import (
    Candidate,
    Feature,
    Featured,
    candidates,
    featurize,
    score_featured,
    score_hits,
)

if TYPE_CHECKING:
    from pipeline.reconcile.stage import reconcile_rows, resolve_all, run

#: Imported when first used (:mod:`pipeline.lazy`): not every command needs them.
__getattr__ = lazy.exports(
    __name__,
    {
        "reconcile_rows": ".stage",
        "resolve_all": ".stage",
        "run": ".stage",
    },
)

__all__ = [
    "LATIN_EXACT",
    "QUERY_COLUMNS",
    "Candidate",
    "Feature",
    "Featured",
    "Index",
    "NameEntry",
    "Outcome",
    "Query",
    "ReconcileParams",
    "ScoreModel",
    "apply_override",
    "bench",
    "build_index",
    "by_ear_places",
    "candidates",
    "decide",
    "featurize",
    "gather",
    "hinted_regions",
    "load_index",
    "make_query",
    "queries_of_rows",
    "query_of_row",
    "rank_evidence",
    "reconcile_rows",
    "resolve",
    "resolve_all",
    "run",
    "score_featured",
    "score_hits",
    "split_list",
    "synthetic_queries",
]
