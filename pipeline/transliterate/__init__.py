"""Transliterate stage: recover the Russian name behind a katakana camp name.

The ministry wrote Soviet place names the way Japanese ears heard them. Plain
Hepburn turns ハバロフスク into "Habarofusuku", which no gazetteer knows, so this
stage does three things for every distinct name:

* :func:`pipeline.names.normalize` and :func:`pipeline.names.split_name` clean the
  cell and split off the administrative and feature words (…地方, …駅, 第24地区 …);
* :func:`pipeline.names.romanize` gives modern Hepburn (long vowels as macrons);
* :meth:`Model.cyrillic_candidates` inverts the Japanese transcription of Russian:
  a lattice of per-unit options (ル → л/ль/р, バ row → б/в, bare final ク/ト/フ/ス …)
  searched with a character 5-gram model of Russian place names (interpolated
  modified Kneser-Ney mixed with stupid backoff, precomputed into state tables)
  learned from the GeoNames Russian names and the OpenCorpora toponyms
  (:data:`TOPONYMS_PATH`), plus a lexicon of GeoNames names keyed by
  :func:`pipeline.names.match_key`.

Everything learned is one :class:`Model`, built by :func:`build_model` and passed
to whatever needs it: ``build_model(hold_out=True)`` never sees the held-out places
(see :func:`heldout_pairs`) and is a separate object, so measuring with it cannot
change the stage's answers. :func:`default_model` is the stage's model, loaded once
per process from its verified, content-addressed artifact (``artifact``: learned
once, about five seconds; loaded in a fraction of one).

Files: ``params`` (the params.yaml section), ``corpus`` (GeoNames names and the
held-out split), ``toponyms`` (the OpenCorpora list), ``lm`` (the 5-gram model),
``channel`` (transcription options and costs), ``decoder`` (beam search),
``lexicon`` (known names), ``model`` (the :class:`Model`), ``artifact`` (the model
saved and verified in a cache folder, :func:`cached_model`), ``stage`` (``run``
and the process pool), ``evaluation`` (gold and held-out scores), ``bench``.
May import :mod:`pipeline.names`, :mod:`pipeline.errors`, :mod:`pipeline.io`,
:mod:`pipeline.records` and :mod:`pipeline.register`, never another stage.
"""

from typing import TYPE_CHECKING

from pipeline import lazy
from pipeline.transliterate.artifact import cached_model, default_model
from pipeline.transliterate.bench import bench
from pipeline.transliterate.corpus import TEST_SHARE, Corpus, is_test_place, training_corpus
from pipeline.transliterate.model import Model, build_model
from pipeline.transliterate.params import TransliterateParams
from pipeline.transliterate.stage import (
    Transliteration,
    latin_candidates,
    run,
    transliterate_name,
)
from pipeline.transliterate.toponyms import TOPONYMS_PATH, extract_toponyms, write_toponyms

if TYPE_CHECKING:
    from pipeline.transliterate.evaluation import Pair, gold_pairs, heldout_pairs, score_candidates

#: Imported when first used (:mod:`pipeline.lazy`): not every command needs them.
__getattr__ = lazy.exports(
    __name__,
    {
        "Pair": ".evaluation",
        "gold_pairs": ".evaluation",
        "heldout_pairs": ".evaluation",
        "score_candidates": ".evaluation",
    },
)

__all__ = [
    "TEST_SHARE",
    "TOPONYMS_PATH",
    "Corpus",
    "Model",
    "Pair",
    "TransliterateParams",
    "Transliteration",
    "bench",
    "build_model",
    "cached_model",
    "default_model",
    "extract_toponyms",
    "gold_pairs",
    "heldout_pairs",
    "is_test_place",
    "latin_candidates",
    "run",
    "score_candidates",
    "training_corpus",
    "transliterate_name",
    "write_toponyms",
]
