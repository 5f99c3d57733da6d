"""Russian (and the region's other Cyrillic alphabets) to katakana, by the Japanese conventions.

:func:`kana_of_cyrillic` is the forward direction of the transliterate stage's
search; the stage reads the same tables (:data:`KANA_ROWS`) backwards.
"""

from __future__ import annotations

import functools
import re
import unicodedata

# Rows per consonant: а, э/е, и, о, у, ы, я, ю, ё, bare, soft (с ь).
_ROWS_TEXT = """
б バ ベ ビ ボ ブ ブイ ビャ ビュ ビョ ブ ビ
в ヴァ ヴェ ヴィ ヴォ ヴ ヴイ ヴャ ヴュ ヴョ ヴ ヴィ
г ガ ゲ ギ ゴ グ グイ ギャ ギュ ギョ グ ギ
д ダ デ ジ ド ドゥ ディ ジャ ジュ ジョ ド ジ
ж ジャ ジェ ジ ジョ ジュ ジ ジャ ジュ ジョ ジ ジ
з ザ ゼ ジ ゾ ズ ズイ ジャ ジュ ジョ ズ ジ
й ヤ イェ イ ヨ ユ イ ヤ ユ ヨ イ イ
к カ ケ キ コ ク クイ キャ キュ キョ ク キ
л ラ レ リ ロ ル ルイ リャ リュ リョ ル リ
м マ メ ミ モ ム ムイ ミャ ミュ ミョ ム ミ
н ナ ネ ニ ノ ヌ ヌイ ニャ ニュ ニョ ン ニ
п パ ペ ピ ポ プ プイ ピャ ピュ ピョ プ ピ
р ラ レ リ ロ ル ルイ リャ リュ リョ ル リ
с サ セ シ ソ ス スイ シャ シュ ショ ス シ
т タ テ チ ト トゥ ティ チャ チュ チョ ト チ
ф ファ フェ フィ フォ フ フイ フャ フュ フョ フ フィ
х ハ ヘ ヒ ホ フ フイ ヒャ ヒュ ヒョ フ ヒ
ц ツァ ツェ ツィ ツォ ツ ツイ ツャ ツュ ツョ ツ ツィ
ч チャ チェ チ チョ チュ チ チャ チュ チョ チ チ
ш シャ シェ シ ショ シュ シ シャ シュ ショ シ シ
щ シチャ シチェ シチ シチョ シチュ シチ シチャ シチュ シチョ シチ シチ
"""
VOWEL_INDEX = {"а": 0, "э": 1, "е": 1, "и": 2, "о": 3, "у": 4, "ы": 5, "я": 6, "ю": 7, "ё": 8}
BARE, SOFT = 9, 10
KANA_ROWS: dict[str, list[str]] = {
    line.split()[0]: line.split()[1:] for line in _ROWS_TEXT.strip().splitlines()
}
LONE_VOWEL = {
    "а": "ア",
    "э": "エ",
    "е": "エ",
    "и": "イ",
    "о": "オ",
    "у": "ウ",
    "ы": "イ",
    "я": "ヤ",
    "ю": "ユ",
    "ё": "ヨ",
}
_LONE_SET = set("аэеиоуыяюё")
_VOICELESS = set("кпстфхцчшщ")
# Doubled stops are written with ッ (Риддер → リッデル); doubled с, л, р … are not (Россия).
_GEMINATE = set("кпбтдгц")
# Letters of the other Cyrillic alphabets of the region, read as their Russian neighbours.
CYR_FOLD = str.maketrans(
    {
        "і": "и",
        "ї": "йи",
        "є": "е",
        "ґ": "г",
        "ў": "в",
        "ә": "а",
        "ө": "о",
        "ү": "у",
        "ұ": "у",
        "қ": "к",
        "ғ": "г",
        "ң": "н",
        "һ": "х",
        "ј": "й",
        "џ": "дж",
        "ђ": "дж",
        "ћ": "ч",
        "љ": "ль",
        "њ": "нь",
        "ҙ": "з",
        "ҫ": "с",
        "ӣ": "и",
        "ӯ": "у",
        "ҳ": "х",
        "ҷ": "ч",
        "ӂ": "ж",
        "ӧ": "ё",
        "ӱ": "ю",
    }
)


def _kana_chunks(word: str) -> list[tuple[str, str]]:
    """Aligned (Cyrillic chunk, kana chunk) pairs of one lower-case word."""
    out: list[tuple[str, str]] = []
    n = len(word)
    i = 0
    while i < n:
        c = word[i]
        nxt = word[i + 1] if i + 1 < n else ""
        if c in KANA_ROWS and c != "й":
            row = KANA_ROWS[c]
            if nxt == c and c not in "нм":
                # Риддер → リッデル; before a consonant the pair is heard once: Спасск.
                vowel_next = i + 2 < n and word[i + 2] in VOWEL_INDEX
                out.append((c, "ッ" if vowel_next and c in _GEMINATE else ""))
                i += 1
                continue
            if c == "т" and nxt == "с" and (i + 2 >= n or word[i + 2] not in VOWEL_INDEX):
                out.append(("тс", "ツ"))  # Советская → ソヴェツカヤ
                i += 2
                continue
            if nxt == "ь":
                after = word[i + 2] if i + 2 < n else ""
                out.append((c + "ь", row[SOFT]))
                i += 2
                if after in LONE_VOWEL:
                    out.append((after, LONE_VOWEL[after]))
                    i += 1
                continue
            if nxt in VOWEL_INDEX:
                kana = row[VOWEL_INDEX[nxt]]
                if (
                    nxt in "иы"
                    and word[i + 2 : i + 3] == "й"
                    and word[i + 3 : i + 4] not in _LONE_SET
                ):
                    out.append((c + nxt + "й", kana + ("ー" if nxt == "и" else "")))
                    i += 3
                    continue
                out.append((c + nxt, kana))
                i += 2
                continue
            if c == "в" and (not nxt or nxt in _VOICELESS):
                out.append((c, "フ"))
            else:
                out.append((c, row[BARE]))
            i += 1
        elif c == "й":
            if nxt in VOWEL_INDEX:
                out.append((c + nxt, KANA_ROWS["й"][VOWEL_INDEX[nxt]]))
                i += 2
            else:
                out.append((c, "イ"))
                i += 1
        elif c in LONE_VOWEL:
            out.append((c, LONE_VOWEL[c]))
            i += 1
        else:  # ъ, stray ь, anything else: silent
            out.append((c, ""))
            i += 1
    return out


@functools.lru_cache(maxsize=300_000)
def kana_of_cyrillic(cyr: str) -> str:
    """Render a Russian name in katakana by the usual Japanese conventions.

    ``match_key(kana_of_cyrillic(x))`` is what the reconcile stage compares with
    ``match_key(katakana)``.

    >>> kana_of_cyrillic("Хабаровск"), kana_of_cyrillic("Тайшет"), kana_of_cyrillic("Райчиха")
    ('ハバロフスク', 'タイシェト', 'ライチハ')
    >>> kana_of_cyrillic("Свободный"), kana_of_cyrillic("Комсомольск-на-Амуре")
    ('スヴォボドヌイ', 'コムソモリスク・ナ・アムレ')
    >>> kana_of_cyrillic("Советская Гавань"), kana_of_cyrillic("Спасск-Дальний")
    ('ソヴェツカヤ・ガヴァニ', 'スパスク・ダリニー')
    """
    text = unicodedata.normalize("NFC", cyr).lower().translate(CYR_FOLD)
    words = re.split(r"[\s\-‐–—]+", text)
    kana = ("".join(k for _, k in _kana_chunks(word)) for word in words)
    return "・".join(k for k in kana if k)
