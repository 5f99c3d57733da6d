"""Each sound rule of spoken Russian (pipeline.names.byear.SOUND_RULES) on its own."""

from __future__ import annotations

import pytest

from pipeline.names import kana_of_cyrillic, match_key
from pipeline.transliterate import channel as ch
from pipeline.transliterate import default_model

#: rule -> (katakana as written by ear, the Russian name it stands for); the first four
#: come from the real spellings of raw/realnames_dev.csv (Diet minutes, burial lists).
CASES = {
    "akanye": [("カクイ", "Кокуй"), ("マルシャンスク", "Моршанск"), ("ナリリスク", "Норильск")],
    "ikanye": [("シフタマ", "Шахтама"), ("リニングラード", "Ленинград")],
    "devoicing": [("キスネル", "Кизнер"), ("ルク", "Луг")],
    "yo_ye": [("アルテム", "Артём")],
    "y_i": [("クイビシェフ", "Куйбышев"), ("ルイポフ", "Липов")],
    "clusters": [("コスロマ", "Кострома")],
    "slips": [("タイセット", "Тайшет"), ("ナウスキ", "Наушки"), ("ペガワト", "Бегават")],
    "lookalike": [("コムツモール", "Комсомол"), ("ツムケント", "Шымкент")],
}


def _reaches(kana: str, russian: str, rules: tuple[str, ...]) -> bool:
    wanted = match_key(kana_of_cyrillic(russian))
    return wanted in ch.by_ear_keys(match_key(kana), rules, depth=1)


def test_every_rule_has_cases() -> None:
    assert set(CASES) == set(ch.SOUND_RULES)


@pytest.mark.parametrize(
    ("rule", "kana", "russian"), [(r, k, c) for r, cs in CASES.items() for k, c in cs]
)
def test_rule_alone_reaches_the_name(rule: str, kana: str, russian: str) -> None:
    assert _reaches(kana, russian, (rule,))
    assert not _reaches(kana, russian, tuple(r for r in ch.SOUND_RULES if r != rule))


def test_two_changes_combine_and_the_key_itself_is_not_a_variant() -> None:
    # ペガワト for Беговат (Bekabad): ペ/ベ heard wrong and unstressed о spoken [a]
    assert ch.by_ear_keys("ペガバト")["ベゴバト"] == 2
    assert "ペガバト" not in ch.by_ear_keys("ペガバト")


def test_dictionary_reading_still_ranks_first() -> None:
    model = default_model()
    for kana, russian in (("ハバロフスク", "Хабаровск"), ("カラガンダ", "Караганда")):
        assert model.cyrillic_candidates(kana, 5)[0][0] == russian


@pytest.mark.parametrize(
    ("kana", "russian"),
    [
        ("タイセット", "Тайшет"),
        ("カクイ", "Кокуй"),
        ("マルシヤンスク", "Моршанск"),
        ("ナウスキ", "Наушки"),
    ],
)
def test_by_ear_spellings_reach_the_top_five(kana: str, russian: str) -> None:
    assert russian in [c for c, _ in default_model().cyrillic_candidates(kana, 5)]
