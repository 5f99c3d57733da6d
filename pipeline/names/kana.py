"""Katakana cells made comparable: NFKC, hiragana to katakana, one separator, notes dropped.

Every other module of :mod:`pipeline.names` starts from :func:`normalize`.
"""

from __future__ import annotations

import functools
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


#: Kanji and symbols that look like a katakana and are set for it inside a katakana name
#: by typesetters and OCR (ハ二ー for ハニー, 口 for ロ): the kana each stands for.
LOOKALIKES = {
    "二": "ニ",
    "一": "ー",
    "口": "ロ",
    "工": "エ",
    "力": "カ",
    "夕": "タ",
    "卜": "ト",
    "八": "ハ",
    "〇": "ロ",
    "○": "ロ",
    "ヵ": "カ",
    "ヶ": "ケ",
}
_KANA = "\u30a1-\u30fa\u30fc"
_LOOKALIKE_RE = re.compile(
    f"(?<=[{_KANA}])[{''.join(LOOKALIKES)}]|[{''.join(LOOKALIKES)}](?=[{_KANA}])"
)
#: A small kana where only a large one can stand: first in a word, or ャュョ after a kana
#: of the ア, エ or オ column (カャ); OCR and typesetting confuse the two sizes.
_SMALL_TO_LARGE = dict(zip("ァィゥェォャュョッ", "アイウエオヤユヨツ", strict=True))
#: Kana after which no small ャュョ can stand (a vowel, the ア, エ, オ columns, ン, ー).
_NO_SMALL_AFTER = (
    "アイウエオカガサザタダナハバパマラワケゲセゼネヘベペメレコゴソゾノホボポモロヨンー"
)
_SMALL_RE = re.compile(f"(?:^|(?<=・))[ァィゥェォャュョッ]|(?<=[{_NO_SMALL_AFTER}])[ャュョ]")


#: What the fast path of :func:`normalize` must not let through: a small kana to repair.
_SMALL_PLAIN_RE = re.compile(f"{_SMALL_RE.pattern}|[ヵヶ]")


def slips_of(text: str) -> tuple[str, ...]:
    """The typesetting slips :func:`normalize` repairs in a raw cell (see :func:`repairs`).

    >>> slips_of("ﾊﾊﾞ口フスク"), slips_of("ハバロフスク")
    (('口>ロ',), ())
    """
    return repairs(_hira_to_kata(unicodedata.normalize("NFKC", text)))[1]


def repairs(text: str) -> tuple[str, tuple[str, ...]]:
    """Repair the typesetting slips inside a katakana name; say what was changed.

    A look-alike kanji or symbol counts only next to a katakana, so camp numbers
    (第二地区) and kanji names (二俣) keep their kanji; a small kana becomes large
    where no small one can stand.

    >>> repairs("ハ二ー口フスク")
    ('ハニーロフスク', ('二>ニ', '口>ロ'))
    >>> repairs("ハバ口フスク第二地区")[1], repairs("ァバカン")
    (('口>ロ',), ('アバカン', ('ァ>ア',)))
    """
    changes: list[str] = []

    def lookalike(match: re.Match[str]) -> str:
        changes.append(f"{match[0]}>{LOOKALIKES[match[0]]}")
        return LOOKALIKES[match[0]]

    def small(match: re.Match[str]) -> str:
        changes.append(f"{match[0]}>{_SMALL_TO_LARGE[match[0]]}")
        return _SMALL_TO_LARGE[match[0]]

    previous = None
    while previous != text:  # 力夕 between kana: each repair brings the next next to a kana
        previous = text
        text = _LOOKALIKE_RE.sub(lookalike, text)
    text = _SMALL_RE.sub(small, text)
    return text, tuple(dict.fromkeys(changes))


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
    text = repairs(text)[0]
    text = re.sub("ー+", "ー", text)
    return unicodedata.normalize("NFKC", text.strip("・ "))


@functools.lru_cache(maxsize=200_000)
def normalize(text: str) -> str:
    """Normalise a katakana cell: NFKC, hiragana to katakana, one separator, notes removed.

    Half-width kana become full-width, every separator (・ ･ ＝ = - ‐ space …)
    becomes one ・, long-vowel marks become ー, and parenthetical notes such as
    "(Diet record 1950)" are dropped, and the typesetting slips of :func:`repairs`
    (二 for ニ, small for large kana) are repaired. Idempotent and total on ``str``;
    memoised, as the transliterate stage asks it twice for each cell (for the cell
    and inside :func:`~pipeline.names.split_name`) and again for each name.

    >>> normalize("ﾊﾊﾞﾛﾌｽｸ")
    'ハバロフスク'
    >>> normalize("えらぷか (Diet record 1950)")
    'エラプカ'
    >>> normalize("スパスク = ダーリニー")
    'スパスク・ダーリニー'
    >>> normalize("ウラジオストック")
    'ウラジオストック'
    >>> normalize("ハバ口フスク"), normalize("ァバカン")
    ('ハバロフスク', 'アバカン')
    """
    if PLAIN_RE.fullmatch(text) and "ーー" not in text and not _SMALL_PLAIN_RE.search(text):
        return text  # already clean (the common case): NFKC leaves these letters alone
    for _ in range(6):  # a removal can bring a combining mark next to a kana: repeat
        new = _normalize_once(text)
        if new == text:
            break
        text = new
    return text
