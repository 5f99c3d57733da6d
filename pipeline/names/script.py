"""Which script a name is written in: one classification of letters for every stage.

:func:`letter_script` says what one letter is; :func:`scripts_of` gives every
script a name's letters are in (the validate stage checks that a name tagged
``ru`` has Cyrillic letters only); :func:`script_of` gives the one script a
name is matched in (the gazetteer tags GeoNames names with it, the reconcile
stage sends a Latin or Cyrillic cell to the Latin or Cyrillic index).
"""

from __future__ import annotations

import unicodedata

#: Unicode name prefixes of the letters of each ISO 15924 script that matching tells apart.
_PREFIXES = (
    ("KATAKANA", "Kana"),
    ("HALFWIDTH KATAKANA", "Kana"),
    ("HIRAGANA", "Kana"),
    ("CYRILLIC", "Cyrl"),
    ("LATIN", "Latn"),
    ("CJK", "Hani"),
    ("HANGUL", "Hang"),
)
#: Scripts whose first letter decides a name that has no kana (Cyrillic before Latin:
#: Aktөbe, a Kazakh name with one Kazakh letter, is matched as Cyrillic).
_FIRST_WINS = frozenset(("Cyrl", "Hani", "Hang"))


def letter_script(char: str) -> str:
    """The ISO 15924 code of one letter, ``Other`` for another script, '' for a non-letter.

    >>> [letter_script(c) for c in "ハはｶЖZ赤한א・1"]
    ['Kana', 'Kana', 'Kana', 'Cyrl', 'Latn', 'Hani', 'Hang', 'Other', '', '']
    """
    if not char.isalpha():
        return ""
    name = unicodedata.name(char, "")
    for prefix, script in _PREFIXES:
        if name.startswith(prefix):
            return script
    return "Other"


def scripts_of(text: str) -> frozenset[str]:
    """Every script the letters of ``text`` are in (digits, spaces and marks do not count).

    >>> sorted(scripts_of("Aktөbe")), sorted(scripts_of("ホルモリン")), scripts_of("12")
    (['Cyrl', 'Latn'], ['Kana'], frozenset())
    """
    return frozenset(script for script in map(letter_script, text) if script)


def script_of(text: str) -> str:
    """The one script a name is matched in.

    A kana letter anywhere makes it Japanese (``Kana``: ハバロフスク地方 is a katakana
    name with a unit word in kanji); else the first Cyrillic, Han or Hangul letter
    decides; else any Latin letter; else ``Other``.

    >>> [script_of(s) for s in ("Хабаровск", "ハバロフスク", "Khabarovsk", "伯力", "하바롭스크")]
    ['Cyrl', 'Kana', 'Latn', 'Hani', 'Hang']
    >>> script_of("Aktөbe"), script_of("いわき市"), script_of("אקטובה"), script_of("")
    ('Cyrl', 'Kana', 'Other', 'Other')
    >>> script_of("ado・ekiti"), script_of("ア・B")
    ('Latn', 'Kana')
    """
    scripts = [letter_script(char) for char in text]
    if "Kana" in scripts:  # letters only: ・ between Latin words is no kana (ado・ekiti)
        return "Kana"
    for script in scripts:
        if script in _FIRST_WINS:
            return script
    return "Latn" if "Latn" in scripts else "Other"
