"""Tests of pipeline.names: normalisation, match keys, name parts, romaji, scripts, folds."""

from __future__ import annotations

import ast
import csv
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline import names

DATA = Path(__file__).parent / "data"
CASES = list(csv.DictReader((DATA / "transliterate_cases.csv").open(encoding="utf-8")))
PIPELINE = Path(__file__).parents[1] / "pipeline"


@pytest.mark.parametrize(
    "row", [r for r in CASES if r["expected_romaji"]], ids=lambda r: r["katakana"]
)
def test_romaji(row: dict[str, str]) -> None:
    assert names.romanize(row["katakana"]) == row["expected_romaji"]


def test_tricky_spellings_fold_to_one_key() -> None:
    groups = [
        ("ウォロシロフ", "ヴォロシーロフ", "ボロシロフ"),
        ("タイシェト", "タイシェット"),
        ("ジプヘーゲン", "ジップヘーゲン"),
        ("ドウキ", "ドーキ"),
        ("リストビャンカ", "リストヴャンカ"),
        ("イズベストコーワヤ", "イズヴェストコヴァヤ"),
        ("チェレンホーボ", "チェレンホーヴォ"),
        ("ｶﾝｽｸ", "かんすく", "カンスク"),
    ]
    for group in groups:
        assert len({names.match_key(kana) for kana in group}) == 1, group


def test_forward_and_backward_agree_on_the_key() -> None:
    pairs = [
        ("Ворошилов", "ウォロシロフ"),
        ("Свободный", "スボボードヌイ"),
        ("Тайшет", "タイシェット"),
    ]
    for cyr, kana in pairs:
        assert names.match_key(names.kana_of_cyrillic(cyr)) == names.match_key(kana)


def test_split_name_camp_numbers_regions_and_flags() -> None:
    parts = names.split_name("第25収容所第3支部")
    assert parts.camp_no == "25" and parts.flag == "camp_number_only"
    parts = names.split_name("ハバロフスク地方・コムソモリスク収容所")
    assert (parts.name, parts.region_hint, parts.feature_hint) == (
        "コムソモリスク",
        "ハバロフスク",
        "収容所",
    )
    assert names.split_name("第二十四地区チタ").camp_no == "24"
    assert names.split_name("伯力").flag == "kanji"
    assert names.split_name("チタ city").flag == "mixed"


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_normalize_is_total_and_idempotent(text: str) -> None:
    once = names.normalize(text)
    assert names.normalize(once) == once


def test_region_words_are_cut_from_hints_and_region_names_alike() -> None:
    for word in names.REGION_SUFFIXES:
        parts = names.split_name(f"チタ{word}カダラ駅")
        assert (parts.region_hint, parts.name) == ("チタ", "カダラ"), word
        assert names.REGION_WORD_RE.sub("", f"チタ{word}") == "チタ", word
    assert names.REGION_WORD_RE.sub("", "ブリヤート自治共和国") == "ブリヤート"


def test_script_of_and_scripts_of_share_one_reading_of_letters() -> None:
    for text in ("Хабаровск", "ハバロフスク", "Khabarovsk", "伯力", "하바롭스크"):
        assert names.scripts_of(text) == {names.script_of(text)}, text
    # A Latin o in a Cyrillic name: matched as Cyrillic, but not Cyrillic only.
    assert names.script_of("Хабарoвск") == "Cyrl"
    assert names.scripts_of("Хабарoвск") == {"Cyrl", "Latn"}
    assert names.script_of("ハバロフスク地方") == "Kana"


def test_the_folds_differ_where_their_callers_need_it() -> None:
    # Stress marks: the model's filter keeps them, the index keys drop them.
    assert names.lenient("Бруси́лово") != names.lenient("Брусилово")
    assert names.fold_cyrillic("Бруси́лово") == names.fold_cyrillic("Брусилово")
    assert names.fold_latin("Artëm") == "artem" and names.fold("ウラン・バートル") == "ウランバトル"


def test_names_imports_nothing_from_the_rest_of_the_pipeline() -> None:
    for path in sorted((PIPELINE / "names").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert (
                    node.module == "pipeline.names"
                    or node.module.startswith("pipeline.names.")
                    or not node.module.startswith("pipeline")
                ), (path.name, node.module)
