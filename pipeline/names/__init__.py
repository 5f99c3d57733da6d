"""The model-free text library of the pipeline: what a name's letters say, for every stage.

Owns kana normalisation (:func:`normalize`), match keys (:func:`match_key`), the
region words, feature words and camp-number patterns (:func:`split_name`,
:data:`REGION_SUFFIXES`), Hepburn (:func:`romanize`), Russian to katakana
(:func:`kana_of_cyrillic`), BGN/PCGN Latin (:func:`latin_of_cyrillic`), the folds
two names are compared in (:func:`lenient`, :func:`fold_cyrillic`,
:func:`fold_latin`, :func:`fold`) and the script of a name (:func:`script_of`).

Pure functions of strings, no data files and no model: it imports nothing from
the stages (or from any other module of :mod:`pipeline`), so every stage can
import it and none has to import another stage for a fact about names.
"""

from pipeline.names.cyrillic import kana_of_cyrillic
from pipeline.names.fold import fold, fold_cyrillic, fold_latin, lenient
from pipeline.names.kana import normalize
from pipeline.names.keys import match_key, plain_kana
from pipeline.names.latin import latin_of_cyrillic
from pipeline.names.patterns import (
    REGION_SUFFIXES,
    REGION_WORD_RE,
    NameParts,
    is_camp_number_only,
    is_readable,
    name_flag,
    split_name,
)
from pipeline.names.romaji import romanize
from pipeline.names.script import letter_script, script_of, scripts_of

__all__ = [
    "REGION_SUFFIXES",
    "REGION_WORD_RE",
    "NameParts",
    "fold",
    "fold_cyrillic",
    "fold_latin",
    "is_camp_number_only",
    "is_readable",
    "kana_of_cyrillic",
    "latin_of_cyrillic",
    "lenient",
    "letter_script",
    "match_key",
    "name_flag",
    "normalize",
    "plain_kana",
    "romanize",
    "script_of",
    "scripts_of",
    "split_name",
]
