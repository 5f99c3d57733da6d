"""BGN/PCGN (1947) Latin of Cyrillic names, as the Western maps of 1944-1979 wrote them."""

from __future__ import annotations

import functools
import re
import unicodedata

from pipeline.names.cyrillic import CYR_FOLD

_BGN = {
    "а": "a",
    "б": "b",
    "в": "v",
    "г": "g",
    "д": "d",
    "е": "e",
    "ё": "ë",
    "ж": "zh",
    "з": "z",
    "и": "i",
    "й": "y",
    "к": "k",
    "л": "l",
    "м": "m",
    "н": "n",
    "о": "o",
    "п": "p",
    "р": "r",
    "с": "s",
    "т": "t",
    "у": "u",
    "ф": "f",
    "х": "kh",
    "ц": "ts",
    "ч": "ch",
    "ш": "sh",
    "щ": "shch",
    "ъ": '"',
    "ы": "y",
    "ь": "'",
    "э": "e",
    "ю": "yu",
    "я": "ya",
}
_BGN_TABLE = str.maketrans(
    {**_BGN, **{k.upper(): v[:1].upper() + v[1:] for k, v in _BGN.items() if k.upper() != k}}
)
_E_RE = re.compile("[еёЕЁ]")
_RUSSIAN_ONLY_RE = re.compile(r"[А-Яа-яЁё \-']*")
#: е and ё read ye/yë at the start of a word and after a vowel, й or a sign.
_YE_RE = re.compile(r"(?:(?<=[аеёиоуыэюяйъьАЕЁИОУЫЭЮЯЙЪЬ])|(?<![^\W\d_]))([еёЕЁ])")


def _ye(match: re.Match[str]) -> str:
    letter = match.group(1)
    return "y" + letter if letter.islower() else "Y" + letter.lower()


@functools.lru_cache(maxsize=300_000)
def latin_of_cyrillic(cyr: str) -> str:
    """BGN/PCGN (1947) romanization, as on the Western maps of 1944-1979.

    е and ё are ye/yë at the start of a word and after a vowel, й or a sign.

    >>> latin_of_cyrillic("Хабаровск"), latin_of_cyrillic("Тайшет")
    ('Khabarovsk', 'Tayshet')
    >>> latin_of_cyrillic("Советская Гавань"), latin_of_cyrillic("Елабуга")
    ("Sovetskaya Gavan'", 'Yelabuga')
    >>> latin_of_cyrillic("Свободный"), latin_of_cyrillic("Щучье"), latin_of_cyrillic("ЁЛКИ")
    ('Svobodnyy', "Shchuch'ye", 'YËLKI')
    """
    text = unicodedata.normalize("NFC", cyr)
    if not _RUSSIAN_ONLY_RE.fullmatch(text):
        text = text.translate(CYR_FOLD)
    shout = text.isupper() and sum(ch.isalpha() for ch in text) > 1  # ХАБАРОВСК on a map
    if _E_RE.search(text):
        text = _YE_RE.sub(_ye, text)
    text = text.translate(_BGN_TABLE)
    return text.upper() if shout else text
