"""Match keys: two katakana spellings of one Russian name fold to one key.

The reconcile stage compares ``match_key(kana_of_cyrillic(x))`` with
``match_key(katakana)``, so :func:`match_key` and
:func:`pipeline.names.cyrillic.kana_of_cyrillic` must agree on what a "same
spelling" is.
"""

from __future__ import annotations

import functools
import re

from pipeline.names.kana import normalize

_KEY_PAIRS = [
    # в written with ヴ, ワ, ウォ …: all fold to the バ row (ヴ stands for в).
    ("ヴァ", "バ"),
    ("ヴィ", "ビ"),
    ("ヴェ", "ベ"),
    ("ヴォ", "ボ"),
    ("ヴャ", "ビャ"),
    ("ヴュ", "ビュ"),
    ("ヴョ", "ビョ"),
    ("ヴ", "ブ"),
    ("ビエ", "ベ"),  # ソビエト/ソヴィエト for совет: the older spelling of ве
    ("ウォ", "ボ"),
    ("ウィ", "ビ"),
    ("ウェ", "ベ"),
    ("ワ", "バ"),
    ("ヲ", "オ"),
    ("ヰ", "イ"),
    ("ヱ", "エ"),
    ("ヂ", "ジ"),
    ("ヅ", "ズ"),
    # ти/ди are written チ/ジ by the older convention, ティ/ディ by the newer.
    ("ティ", "チ"),
    ("ディ", "ジ"),
    ("テュ", "チュ"),
    ("デュ", "ジュ"),
    ("トゥ", "ト"),
    ("ドゥ", "ド"),
    ("イェ", "エ"),
    ("ヵ", "カ"),
    ("ヶ", "ケ"),
]
_SMALL_TO_LARGE = str.maketrans("ァィゥェォャュョヮ", "アイウエオヤユヨワ")
_O_ROW = "オコゴソゾトドノホボポモヨロョ"
_KEY_DROP_RE = re.compile(r"[ー・ッ\s]")
_O_U_RE = re.compile(f"(?<=[{_O_ROW}])ウ")


@functools.lru_cache(maxsize=200_000)
def match_key(kana: str) -> str:
    """Fold a katakana spelling so that two spellings of one Russian name meet.

    Drops ー ッ ・ and spaces, folds the ways в is written (ヴ, ワ, ウォ) into the バ
    row, ヂ/ヅ into ジ/ズ, ティ/ディ into チ/ジ, small vowels into large ones (シェ
    and シエ meet), and ウ after an o-row kana (ドウキ = ドーキ).

    >>> match_key("ウォロシロフ") == match_key("ヴォロシーロフ") == match_key("ボロシロフ")
    True
    >>> match_key("タイシェット") == match_key("タイシェト") == match_key("タイシエト")
    True
    >>> match_key("ドウキ") == match_key("ドーキ")
    True
    """
    text = normalize(kana)
    for old, new in _KEY_PAIRS:
        if old in text:
            text = text.replace(old, new)
    text = _KEY_DROP_RE.sub("", text.translate(_SMALL_TO_LARGE))
    return _O_U_RE.sub("", text) if "ウ" in text else text


def plain_kana(kana: str) -> str:
    """A normalised katakana name without its separators, as spellings are compared.

    >>> plain_kana("スパスク = ダーリニー")
    'スパスクダーリニー'
    """
    return normalize(kana).replace("・", "")
