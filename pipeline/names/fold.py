"""Folds: the forms in which two names count as the same for one purpose.

They differ on purpose, and each caller needs its own:

* :func:`lenient` compares Cyrillic candidates with accepted names (scores) and
  keeps held-out names out of the transliteration model. It keeps stress marks
  and other punctuation (Бруси́лово stays apart from Брусилово): the model's
  training set and every score were measured with it.
* :func:`fold_cyrillic` and :func:`fold_latin` are the keys of the reconcile
  stage's name index: letters and digits only (NFC, then stress marks dropped
  for Cyrillic; diacritics dropped, ASCII only, for Latin).
* :func:`fold` is the geocode stage's look-up of a region or place in any script:
  case, gaps, hyphens, dots and ー only, so katakana stays katakana.
"""

from __future__ import annotations

import re
import unicodedata

_LENIENT_DROP = re.compile(r"[\s\-‐–—'’\"().]")
_FOLD_DROP = re.compile(r"[\s\-‐・.ー'’]+")


def lenient(name: str) -> str:
    """The form two Cyrillic names are compared in: ё=е, case, hyphens and spaces ignored.

    >>> lenient("Комсомольск-на-Амуре") == lenient("комсомольск на амуре")
    True
    >>> lenient("Орёл") == lenient("Орел")
    True
    """
    return _LENIENT_DROP.sub("", name.lower().replace("ё", "е"))


def fold_cyrillic(text: str) -> str:
    """Lower-case a Cyrillic name, ё as е, letters and digits only.

    >>> fold_cyrillic("Спасск-Дальний"), fold_cyrillic("Артём")
    ('спасскдальний', 'артем')
    """
    text = unicodedata.normalize("NFC", text).lower().replace("ё", "е")
    return "".join(ch for ch in text if ch.isalnum())


def fold_latin(text: str) -> str:
    """Lower-case ASCII letters and digits of a Latin name: diacritics, marks and gaps go.

    >>> fold_latin("Spassk-Dal’niy"), fold_latin("Artëm"), fold_latin("Krasnoyarsk-45")
    ('spasskdalniy', 'artem', 'krasnoyarsk45')
    """
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return "".join(ch for ch in text if ch.isalnum())


def fold(name: str) -> str:
    """Fold a name for lookup: case, spaces, hyphens, dots and long-vowel marks.

    >>> fold("Ulan-Bator"), fold("ウラン・バートル"), fold(" Хабаровск ")
    ('ulanbator', 'ウランバトル', 'хабаровск')
    """
    return _FOLD_DROP.sub("", name).casefold()
