"""Modern Hepburn of a katakana name, with the kana of foreign sounds.

Plain Hepburn is what a reader of the ministry's map would say (ハバロフスク →
Habarofusuku); it is no Russian name, but it is what an English-language
Japanese source writes.
"""

from __future__ import annotations

import functools

from pipeline.names.kana import normalize

_HEPBURN_1 = dict(
    zip(
        "アイウエオカキクケコガギグゲゴサシスセソザジズゼゾタチツテトダヂヅデド"
        "ナニヌネノハヒフヘホバビブベボパピプペポマミムメモヤユヨラリルレロワヰヱヲンヴ"
        "ァィゥェォャュョヮヵヶ",
        [
            "a",
            "i",
            "u",
            "e",
            "o",
            "ka",
            "ki",
            "ku",
            "ke",
            "ko",
            "ga",
            "gi",
            "gu",
            "ge",
            "go",
            "sa",
            "shi",
            "su",
            "se",
            "so",
            "za",
            "ji",
            "zu",
            "ze",
            "zo",
            "ta",
            "chi",
            "tsu",
            "te",
            "to",
            "da",
            "ji",
            "zu",
            "de",
            "do",
            "na",
            "ni",
            "nu",
            "ne",
            "no",
            "ha",
            "hi",
            "fu",
            "he",
            "ho",
            "ba",
            "bi",
            "bu",
            "be",
            "bo",
            "pa",
            "pi",
            "pu",
            "pe",
            "po",
            "ma",
            "mi",
            "mu",
            "me",
            "mo",
            "ya",
            "yu",
            "yo",
            "ra",
            "ri",
            "ru",
            "re",
            "ro",
            "wa",
            "i",
            "e",
            "o",
            "n",
            "vu",
            "a",
            "i",
            "u",
            "e",
            "o",
            "ya",
            "yu",
            "yo",
            "wa",
            "ka",
            "ke",
        ],
        strict=True,
    )
)
_YOON = {"ャ": "a", "ュ": "u", "ョ": "o", "ェ": "e"}
_YOON_BASE = {
    "キ": "ky",
    "ギ": "gy",
    "シ": "sh",
    "ジ": "j",
    "チ": "ch",
    "ヂ": "j",
    "ニ": "ny",
    "ヒ": "hy",
    "ビ": "by",
    "ピ": "py",
    "ミ": "my",
    "リ": "ry",
    "ヴ": "vy",
    "フ": "fy",
}
_HEPBURN_2 = {
    base + small: stem + vowel
    for base, stem in _YOON_BASE.items()
    for small, vowel in _YOON.items()
    if not (small == "ェ" and base in "ヴフ")
}
_HEPBURN_2.update(
    {
        "ヴァ": "va",
        "ヴィ": "vi",
        "ヴェ": "ve",
        "ヴォ": "vo",
        "ティ": "ti",
        "ディ": "di",
        "トゥ": "tu",
        "ドゥ": "du",
        "テュ": "tyu",
        "デュ": "dyu",
        "ツァ": "tsa",
        "ツィ": "tsi",
        "ツェ": "tse",
        "ツォ": "tso",
        "ファ": "fa",
        "フィ": "fi",
        "フェ": "fe",
        "フォ": "fo",
        "ウィ": "wi",
        "ウェ": "we",
        "ウォ": "wo",
        "イェ": "ye",
        "クァ": "kwa",
        "クィ": "kwi",
        "クェ": "kwe",
        "クォ": "kwo",
        "グァ": "gwa",
        "スィ": "si",
        "ズィ": "zi",
        "シェ": "she",
        "ジェ": "je",
        "チェ": "che",
    }
)
_MACRON = {"a": "ā", "i": "ī", "u": "ū", "e": "ē", "o": "ō"}


def _romanize_word(word: str) -> str:
    out: list[str] = []
    geminate = False
    i = 0
    while i < len(word):
        pair = word[i : i + 2]
        if pair in _HEPBURN_2:
            syllable, i = _HEPBURN_2[pair], i + 2
        elif word[i] == "ッ":
            geminate, i = True, i + 1
            continue
        elif word[i] == "ー":
            if out and out[-1] and out[-1][-1] in _MACRON:
                out[-1] = out[-1][:-1] + _MACRON[out[-1][-1]]
            i += 1
            continue
        else:
            syllable, i = _HEPBURN_1.get(word[i], word[i]), i + 1
        if geminate and syllable[:1].isalpha() and syllable[0] not in "aiueo":
            syllable = ("t" if syllable.startswith("ch") else syllable[0]) + syllable
        geminate = False
        if out and out[-1] == "n" and syllable[:1] in ("a", "i", "u", "e", "o", "y"):
            out[-1] = "n'"
        out.append(syllable)
    text = "".join(out)
    return text[:1].upper() + text[1:]


@functools.lru_cache(maxsize=100_000)
def romanize(kana: str) -> str:
    """Modern Hepburn, with the foreign-sound kana, ー as a macron, ・ as a space.

    >>> romanize("ハバロフスク"), romanize("ヒーロク"), romanize("タイシェット")
    ('Habarofusuku', 'Hīroku', 'Taishetto')
    >>> romanize("スパスク・ダーリニー"), romanize("ヴォロシーロフ"), romanize("リッチ")
    ('Supasuku Dārinī', 'Voroshīrofu', 'Ritchi')
    """
    return " ".join(_romanize_word(word) for word in normalize(kana).split("・") if word)
