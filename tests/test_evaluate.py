"""Tests of the evaluate stage on a hand-checked gold file (tests/data/gold_tiny.csv)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline import evaluate as ev
from pipeline import reconcile as rc
from pipeline.cli import cli
from pipeline.errors import InputDataError
from pipeline.places import Gazetteer, Name, Place
from pipeline.transliterate import TransliterateParams, default_model

DATA = Path(__file__).parent / "data"
TINY = DATA / "gazetteer_reconcile"
T_PARAMS = TransliterateParams()
GOLD = DATA / "gold_tiny.csv"


@pytest.fixture(scope="module")
def metrics(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    out = tmp_path_factory.mktemp("evaluate") / "metrics.json"
    plots = out.parent / "plots"
    ev.run(GOLD, TINY, Path("no-overrides.csv"), T_PARAMS, rc.ReconcileParams(), out, None, plots)
    return json.loads(out.read_text(encoding="utf-8"))


def test_numbers_on_tiny_gold(metrics: dict[str, object]) -> None:
    # By hand: Khabarovsk and Partizansk (Suchan) auto and right; スパスク review, top
    # Spassk-Dalny, right; ザポロージェ is not in the tiny gazetteer (unresolved);
    # ロンドン is a negative and unresolved.
    assert (metrics["positives"], metrics["negatives"]) == (4, 1)
    m = metrics["reconcile"]
    assert isinstance(m, dict)
    assert m["acc_at_1"] == m["acc_at_25km"] == m["acc_at_161km"] == m["mrr"] == 0.75
    assert (m["auto"], m["auto_precision"], m["coverage"]) == (2, 1.0, 0.75)
    assert (m["negatives_auto"], m["negatives_unresolved"]) == (0, 1)
    assert m["decisions"] == {"auto": 2, "review": 1, "override": 0, "unresolved": 2}
    assert 0 <= m["brier"] < 0.05
    assert list(metrics) == [
        "positives",
        "negatives",
        "reconcile",
        "without_curated_kana",
        "unseen_names",
        "transliterate",
    ]


def _leaves(tree: object) -> list[object]:
    if isinstance(tree, dict):
        return [leaf for value in tree.values() for leaf in _leaves(value)]
    return [tree]


def test_metrics_hold_numbers_only_and_labels_go_to_the_sidecar(
    metrics: dict[str, object], tmp_path_factory: pytest.TempPathFactory
) -> None:
    leaves = _leaves(metrics)
    assert leaves and all(isinstance(v, int | float) and not isinstance(v, bool) for v in leaves)
    folder = next(Path(tmp_path_factory.getbasetemp()).glob("evaluate*"))
    labels = json.loads((folder / "metrics_labels.json").read_text("utf-8"))
    assert labels["gold"] == "gold_tiny.csv"
    assert labels["unseen_names"]["wrong_auto"] == [] or labels["unseen_names"]["wrong_auto"]


def test_plot_data_on_tiny_gold(metrics: dict[str, object], tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    import csv

    folder = next(Path(tmp_path_factory.getbasetemp()).glob("evaluate*")) / "plots"

    def table(name: str) -> list[dict[str, str]]:
        return list(csv.DictReader((folder / name).open(encoding="utf-8")))

    histogram = table("score_histogram.csv")
    assert len(histogram) == 10
    counts = {d: sum(int(r[d]) for r in histogram) for d in ("auto", "review", "unresolved")}
    assert counts == {"auto": 2, "review": 1, "unresolved": 2}  # as the decisions above
    reliability = table("reliability.csv")
    assert sum(int(r["count"]) for r in reliability) == 5
    assert all(0 <= float(r["observed"]) <= 1 for r in reliability)
    cdf = table("distance_cdf.csv")
    # 3 positives have a place within 25 km; ザポロージェ has none: the curve ends at 3/4.
    assert [float(r["share_within"]) for r in cdf] == [0.25, 0.5, 0.75]
    assert all(float(r["distance_km"]) <= 25 for r in cdf)


def test_a_wrong_place_counts_against_acc_and_auto_precision(tmp_path: Path) -> None:
    # The same name with the point of a place 300 km away (Vladivostok): the match is wrong.
    gold = tmp_path / "gold.csv"
    gold.write_text("katakana,expected,lat,lon\nハバロフスク,Khabarovsk,43.12,131.89\n", "utf-8")
    rows = ev.read_gold(gold)
    scored = ev.score_rows(
        rows, rc.load_index(TINY), [], default_model(), T_PARAMS, rc.ReconcileParams()
    )
    assert scored["acc_at_1"] == scored["acc_at_25km"] == scored["acc_at_161km"] == 0.0
    assert scored["auto_precision"] == 0.0


def test_expected_names() -> None:
    assert ev.expected_names("Chernovsky (part of Chita)") == ("Chernovsky",)


def test_gold_without_point_is_refused(tmp_path: Path) -> None:
    gold = tmp_path / "gold.csv"
    gold.write_text("katakana,expected,lat,lon\nチタ,Chita,,\n", encoding="utf-8")
    with pytest.raises(InputDataError, match=r"gold\.csv: row 2, column lat"):
        ev.read_gold(gold)


def test_cli_evaluate(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    args = ["evaluate", "--gazetteer", str(TINY), "--overrides", str(tmp_path / "none.csv")]
    result = runner.invoke(cli, [*args, "--gold", str(GOLD)])
    assert result.exit_code == 0, result.stderr
    assert "acc@25km 0.750" in result.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text("katakana,lat\nチタ,1\n", encoding="utf-8")
    result = runner.invoke(cli, [*args, "--gold", str(bad)])
    assert result.exit_code == 1 and "missing column(s) expected, lon" in result.stderr


# --------------------------------------------------------------------------- unseen names


def _unseen_gazetteer() -> Gazetteer:
    """Three GeoNames places with a katakana name, and a bigger namesake of one."""

    def place(pid: str, name: str, gid: str, lat: float, population: int) -> Place:
        return Place(
            pid,
            name,
            "populated place",
            "RU",
            "30",
            "",
            lat,
            135.0,
            population,
            gid,
            "",
            False,
            "",
            "",
        )

    places = [
        place("gn:1", "Tayshet", "1", 56.0, 30_000),
        place("gn:2", "Khabarovsk", "2", 48.5, 600_000),
        place("gn:3", "Spassk", "3", 60.0, 100),
        place("other", "Spassk", "", 44.6, 40_000),
    ]
    names = [
        Name("gn:1", "Тайшет", "ru", "Cyrl", "", "geonames:1"),
        Name("gn:1", "タイシェト", "ja", "Kana", "", "geonames:1"),
        Name("gn:2", "Хабаровск", "ru", "Cyrl", "", "geonames:2"),
        Name("gn:2", "ハバロフスク", "ja", "Kana", "", "geonames:2"),
        Name("gn:2", "ハバロフスク", "ja", "Kana", "", "dossier"),  # curated: withheld, no query
        Name("gn:3", "Спасск", "ru", "Cyrl", "", "geonames:3"),
        Name("gn:3", "スパスク", "ja", "Kana", "", "geonames:3"),
        Name("other", "Спасск", "ru", "Cyrl", "", "geonames:9"),
    ]
    return Gazetteer({p.place_id: p for p in places}, tuple(names), {})


def test_unseen_names_are_held_out_and_withheld() -> None:
    gazetteer = _unseen_gazetteer()
    names = ev.unseen_names(gazetteer, is_test=lambda gid: gid != 1)
    assert [(n.katakana, n.place_id) for n in names] == [
        ("ハバロフスク", "gn:2"),
        ("スパスク", "gn:3"),
    ]
    kept = ev.without_kana_of(gazetteer, {"gn:2", "gn:3"})
    assert [n.name for n in kept.names if n.script == "Kana"] == ["タイシェト"]
    assert len(ev.unseen_names(gazetteer, is_test=lambda gid: True, limit=2)) == 2


def test_generalization_numbers_on_a_tiny_gazetteer() -> None:
    # By hand: タイシェト and ハバロフスク are found through their Cyrillic names and
    # accepted; スパスク has a bigger namesake 1,700 km away, which ranks first
    # (population) and is sent to review: wrong at rank 1, right at rank 2.
    m = ev.generalization(
        _unseen_gazetteer(), T_PARAMS, rc.ReconcileParams(), is_test=lambda gid: True
    )
    assert m["names"] == 3
    assert m["acc_at_1"] == m["acc_at_25km"] == round(2 / 3, 4)
    assert m["mrr"] == round((1 + 1 + 0.5) / 3, 4)
    assert (m["auto"], m["auto_precision"], m["coverage"]) == (2, 1.0, 1.0)
    assert m["with_region"]["names"] == 0  # no regions in this gazetteer
