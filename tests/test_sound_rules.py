"""Each sound rule of spoken Russian (pipeline.transliterate.channel.SOUND_RULES) on its own."""

from __future__ import annotations

import pytest

from pipeline.transliterate import channel as ch
from pipeline.transliterate import default_model

#: rule -> (katakana heard by ear, the Russian it spells only with that rule)
CASES = {
    "akanye": [("カクイ", "Кокуй"), ("マルシャンスク", "Моршанск")],
    "ikanye": [("リニングラード", "Ленинград"), ("ピトロフスク", "Петровск")],
    "devoicing": [("ルク", "Луг"), ("キスネル", "Кизнер")],
    "yo_ye": [("アルトム", "Артём")],
    "y_i": [("ジム", "Дым")],
    "clusters": [("コスロマ", "Кострома")],
    "slips": [("タイセット", "Тайшет"), ("ナウスキ", "Наушки"), ("ペガワト", "Бегават")],
}


def _spells(kana: str, russian: str, rules: tuple[str, ...]) -> bool:
    target = russian.lower().replace("ё", "е")
    return ch.align(kana, target, ch.options(rules), ch.max_unit()) is not None


def test_every_rule_has_cases() -> None:
    assert set(CASES) == set(ch.SOUND_RULES)


@pytest.mark.parametrize(
    ("rule", "kana", "russian"), [(r, k, c) for r, cs in CASES.items() for k, c in cs]
)
def test_rule_alone_reads_the_spelling(rule: str, kana: str, russian: str) -> None:
    others = tuple(r for r in ch.SOUND_RULES if r != rule)
    assert _spells(kana, russian, (rule,))
    if rule != "devoicing":  # キスネル: ス for з is also an old hand-set reading
        assert not _spells(kana, russian, ())
        assert not _spells(kana, russian, others) or rule == "slips"


def test_by_ear_readings_never_beat_the_dictionary() -> None:
    model = default_model()
    assert min(cost for cyr, _, cost in model.channel["カ"] if cyr == "ко") >= ch.BY_EAR_COST
    assert model.channel["カ"][0][0] == "ка"
    # dictionary spellings still read first
    for kana, russian in (("ハバロフスク", "Хабаровск"), ("カラガンダ", "Караганда")):
        assert model.cyrillic_candidates(kana, 5)[0][0] == russian


def test_by_ear_spellings_reach_the_top_five() -> None:
    model = default_model()
    for kana, russian in (
        ("タイセット", "Тайшет"),
        ("カクイ", "Кокуй"),
        ("ナリリスク", "Норильск"),
    ):
        assert russian in [c for c, _ in model.cyrillic_candidates(kana, 5)]
