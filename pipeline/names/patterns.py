"""What a cell holds besides the place name: region words, feature words, camp numbers.

A register writes クラスノヤルスク地方カンスク, チタ第24地区 or ライチハ駅;
:func:`split_name` keeps the place name and says what was around it. The region
words (:data:`REGION_SUFFIXES`) and the camp-number patterns live here only.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import NamedTuple

from pipeline.names.kana import KATAKANA_RE, PLAIN_RE, normalize, slips_of


class NameParts(NamedTuple):
    """A cell split into the place name and the words around it (a tuple: made per cell).

    ``flag`` is '' for a katakana name, else ``latin``, ``kanji``, ``mixed``,
    ``empty`` or (set by the transliterate stage) ``too_long``: such rows are kept
    and counted, never dropped. A katakana name whose typesetting slips were
    repaired is read as repaired and flagged ``repaired:`` with the changes
    (``repaired:口>ロ``), so a reviewer sees them; :func:`is_readable` tells the
    flags of names that are still transliterated.
    """

    name: str
    region_hint: str = ""
    feature_hint: str = ""
    camp_no: str = ""
    flag: str = ""


_KANJI_DIGITS = {
    "〇": 0,
    "一": 1,
    "二": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CAMP_RE = re.compile(
    r"第([0-9〇一二三四五六七八九十百]+)(地区|収容所|支部|分所|ラーゲリ|ラーゲル|大隊|病院)?"
)
#: The words after the name of a region (チタ州, ハバロフスク地方, ブリヤート自治共和国,
#: ヘンティ・アイマク): the one list that split_name, the region keys of the reconcile
#: stage and the region test of the geocode stage use. A longer word goes before
#: the shorter one it ends in (自治州 before 州), so that it is cut whole.
REGION_SUFFIXES = ("自治共和国", "自治州", "共和国", "地方", "州", "県", "管区", "アイマク")
_REGION_WORDS = "|".join(REGION_SUFFIXES)
#: A name that ends in a region's word; ``REGION_WORD_RE.sub("", name)`` is the bare name.
REGION_WORD_RE = re.compile(f"({_REGION_WORDS})$")
_REGION_RE = re.compile(rf"^([^・]+?)({_REGION_WORDS})・?(.+)$")
#: Words after a name that say what kind of place it is: camp, prison, mine, station,
#: village, district of a region. Longer words first (刑務所 before 所 would matter).
FEATURE_WORDS = (
    "捕虜収容所",
    "収容所",
    "ラーゲリ",
    "ラーゲル",
    "分所",
    "支部",
    "刑務所",
    "監獄",
    "炭坑",
    "炭鉱",
    "鉱山",
    "墓地",
    "病院",
    "地区",
    "方面",
    "付近",
    "附近",
    "近郊",
    "駅",
    "港",
    "市",
    "村",
    "町",
    "自治共和国",
    "共和国",
    "州",
    "地方",
)
_FEATURE_SUFFIXES = FEATURE_WORDS
#: Region names written before a place without a region word (外蒙古ウランバートル,
#: ウズベク・タシケント): cut off as the region hint when a name follows.
REGION_PREFIXES = (
    "ブリヤート・モンゴル",
    "ブリヤートモンゴル",
    "外モンゴル",
    "外蒙古",
    "内蒙古",
    "蒙古",
    "モンゴル",
    "東部シベリア",
    "西部シベリア",
    "東シベリア",
    "西シベリア",
    "シベリア",
    "カザフスタン",
    "ウズベキスタン",
    "キルギスタン",
    "カザフ",
    "ウズベク",
    "キルギス",
    "タジク",
    "トルクメン",
    "ウクライナ",
    "グルジア",
    "満洲",
    "満州",
)
_DISTRICT_RE = re.compile("^([^・]{2,}?)(市|地区)・?([^・]{2,}.*)$")
_PREFIX_RE = re.compile(f"^({'|'.join(REGION_PREFIXES)})・?(.{{2,}})$")
_FEATURE_RE = re.compile(rf"・?({'|'.join(_FEATURE_SUFFIXES)})$")


def _kanji_number(text: str) -> str:
    """'24' or '二十四' → '24'.

    >>> _kanji_number("二十四"), _kanji_number("7"), _kanji_number("百二")
    ('24', '7', '102')
    """
    if text.isdigit():
        return str(int(text))
    total, current = 0, 0
    for ch in text:
        if ch in _KANJI_DIGITS:
            current = _KANJI_DIGITS[ch]
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        elif ch == "百":
            total += (current or 1) * 100
            current = 0
    return str(total + current)


def name_flag(name: str) -> str:
    """'' for a katakana name, else what it is: ``latin``, ``kanji``, ``mixed`` or ``empty``.

    >>> [name_flag(n) for n in ("チタ", "Chita", "赤塔", "チタ市2", "")]
    ['', 'latin', 'kanji', 'mixed', 'empty']
    """
    if not name:
        return "empty"
    if KATAKANA_RE.match(name):
        return ""
    kinds = set()
    for ch in name:
        if ch == "・":
            continue
        if "\u30a1" <= ch <= "\u30fc":
            kinds.add("kana")
        elif ch.isascii():
            kinds.add("latin")
        elif unicodedata.name(ch, "").startswith("CJK"):
            kinds.add("kanji")
        else:
            kinds.add("other")
    if kinds == {"latin"}:
        return "latin"
    if kinds == {"kanji"}:
        return "kanji"
    return "mixed"


@functools.lru_cache(maxsize=100_000)
def split_name(text: str) -> NameParts:
    """Split a cell into name, region hint, feature hint and camp number.

    >>> split_name("クラスノヤルスク地方カンスク")
    NameParts(name='カンスク', region_hint='クラスノヤルスク', feature_hint='', camp_no='', flag='')
    >>> split_name("チタ第24地区")
    NameParts(name='チタ', region_hint='', feature_hint='地区', camp_no='24', flag='')
    >>> split_name("ライチハ駅").feature_hint, split_name("Raichikha").flag, split_name("").flag
    ('駅', 'latin', 'empty')
    """
    rest = normalize(text)
    slips = slips_of(text) if rest != text else ()
    if PLAIN_RE.fullmatch(rest) and "ラーゲ" not in rest and not rest.startswith(REGION_PREFIXES):
        # katakana alone: no number, region or feature word
        return NameParts(rest, flag=_repaired(slips)) if slips else NameParts(rest)
    camp_no, features = "", []
    match = _CAMP_RE.search(rest)
    if match:
        camp_no = _kanji_number(match.group(1))
        if match.group(2):
            features.append(match.group(2))
        rest = _CAMP_RE.sub("・", rest).strip("・")
    region = ""
    match = _REGION_RE.match(rest)
    if match and match.group(3).strip("・"):
        region, rest = match.group(1), match.group(3).strip("・")
    elif rest not in REGION_PREFIXES:
        match = _PREFIX_RE.match(rest)
        if match and match.group(2).strip("・") and not _FEATURE_ONLY.fullmatch(match.group(2)):
            region, rest = match.group(1), match.group(2).strip("・")
    match = _DISTRICT_RE.match(rest)
    if match and not region:  # ワニノ市トゥムニン村: a village of the town's district
        region, rest = match.group(1), match.group(3).strip("・")
    while True:
        match = _FEATURE_RE.search(rest)
        if not match or match.start() == 0:
            break
        if match.start() == 1 and not KATAKANA_RE.match(rest[0]):
            break  # 尼港 is one kanji name (Nikolayevsk), not the port of 尼
        features.append(match.group(1))
        rest = rest[: match.start()].strip("・")
    name = rest.strip("・")
    if _FEATURE_ONLY.fullmatch(name):  # 駅, 墓地: a feature word and no name
        features.insert(0, name)
        name = ""
    flag = _bad_input(text, name, features, region, camp_no) or name_flag(name) or _repaired(slips)
    return NameParts(name, region, "|".join(dict.fromkeys(features)), camp_no, flag)


_FEATURE_ONLY = re.compile(f"(?:{'|'.join(FEATURE_WORDS)})+")
_SYMBOLS_ONLY = re.compile(r"[\W_\d]+")
_REGION_WORDS_SET = frozenset(REGION_SUFFIXES) | {"共和国", "地方", "州"}


def _bad_input(text: str, name: str, features: list[str], region: str, camp_no: str) -> str:
    """``symbols``, ``feature_only``, ``camp_number_only`` or ``region_only``: no place named.

    A region alone (沿海州, ハバロフスク州) is not bad input: it is flagged
    ``region_only`` so that the later stages give it the region, not its capital.
    """
    if not name:
        if text.strip() and _SYMBOLS_ONLY.fullmatch(normalize(text) or text.strip()):
            return "symbols"
        if camp_no:
            return "camp_number_only"
        return "feature_only" if features or region else ""
    if _SYMBOLS_ONLY.fullmatch(name):
        return "symbols"
    if not region and features and features[-1] in _REGION_WORDS_SET and len(features) == 1:
        return "region_only"
    if not region and not features and name in REGION_PREFIXES:
        return "region_only"
    return ""


def _repaired(slips: tuple[str, ...]) -> str:
    return "repaired:" + ",".join(slips) if slips else ""


def is_readable(flag: str) -> bool:
    """Whether a name with this ``name_flag`` is katakana that the stages read.

    >>> is_readable(""), is_readable("repaired:口>ロ"), is_readable("kanji")
    (True, True, False)
    """
    return not flag or flag.startswith("repaired:") or flag == "region_only"


#: A name that is only a camp number: 第24地区, 第25収容所第3支部, ラーゲリ24.
CAMP_NUMBER_ONLY = re.compile(
    r"^(第)?\s*[0-9０-９]+\s*(号)?\s*(地区|収容所|ラーゲリ|ラーゲル|支部|分所|番)*"
    r"(第?[0-9０-９]+(支部|分所))?$"
)


def is_camp_number_only(name: str) -> bool:
    """True for a name that is only a GUPVI camp number, which places no town.

    >>> is_camp_number_only("第24地区"), is_camp_number_only("第25収容所第3支部")
    (True, True)
    >>> is_camp_number_only("チタ第24地区"), is_camp_number_only("")
    (False, False)
    """
    name = name.strip()
    return bool(name) and CAMP_NUMBER_ONLY.match(name) is not None
