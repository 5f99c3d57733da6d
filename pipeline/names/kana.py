"""Katakana cells made comparable: NFKC, hiragana to katakana, one separator, notes dropped.

Every other module of :mod:`pipeline.names` starts from :func:`normalize`.
"""

from __future__ import annotations

import re
import unicodedata

_SEPARATORS = "・･＝=-‐‑‒–- \u3000\t\n\r/／,、､·•"
_LONG_MARKS = "ーｰ〜～―—"
_SEP_RE = re.compile("[" + re.escape(_SEPARATORS) + "]+")
_PAREN_RE = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|【[^【】]*】|「[^「」]*」|〔[^〔〕]*〕")
_STRAY_BRACKETS = str.maketrans("", "", "()[]【】「」〔〕")
KATAKANA_RE = re.compile("^[\u30a1-\u30fa\u30fc・]+$")
#: A cell that normalisation leaves as it is: words of full-width katakana and ー, one ・ between.
PLAIN_RE = re.compile("[\u30a1-\u30fa\u30fc]+(?:・[\u30a1-\u30fa\u30fc]+)*")


def _hira_to_kata(text: str) -> str:
    """Shift hiragana (U+3041-U+3096, ゝゞ) to katakana."""
    return "".join(
        chr(ord(ch) + 0x60) if "\u3041" <= ch <= "\u3096" or ch in "ゝゞ" else ch for ch in text
    )


def _normalize_once(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = _hira_to_kata(text)
    previous = None
    while previous != text:  # nested notes: remove innermost first
        previous = text
        text = _PAREN_RE.sub(" ", text)
    text = text.translate(_STRAY_BRACKETS)
    text = "".join("ー" if ch in _LONG_MARKS else ch for ch in text)
    text = _SEP_RE.sub("・", text)
    text = re.sub("ー+", "ー", text)
    return unicodedata.normalize("NFKC", text.strip("・ "))


def normalize(text: str) -> str:
    """Normalise a katakana cell: NFKC, hiragana to katakana, one separator, notes removed.

    Half-width kana become full-width, every separator (・ ･ ＝ = - ‐ space …)
    becomes one ・, long-vowel marks become ー, and parenthetical notes such as
    "(Diet record 1950)" are dropped. Idempotent and total on ``str``.

    >>> normalize("ﾊﾊﾞﾛﾌｽｸ")
    'ハバロフスク'
    >>> normalize("えらぷか (Diet record 1950)")
    'エラプカ'
    >>> normalize("スパスク = ダーリニー")
    'スパスク・ダーリニー'
    """
    if PLAIN_RE.fullmatch(text) and "ーー" not in text:
        return text  # already clean (the common case): NFKC leaves these letters alone
    for _ in range(6):  # a removal can bring a combining mark next to a kana: repeat
        new = _normalize_once(text)
        if new == text:
            break
        text = new
    return text
