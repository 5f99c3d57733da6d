"""`camps lookup`: a raw name transliterated with the transliterate params, then reconciled."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from pipeline import lookup
from pipeline import reconcile as rc
from pipeline import transliterate as tr
from pipeline.cli import cli
from pipeline.io import write_csv

TINY = Path(__file__).parent / "data" / "gazetteer_reconcile"
T_PARAMS = tr.TransliterateParams()
R_PARAMS = rc.ReconcileParams()


def test_lookup_returns_the_query_outcome_and_regions() -> None:
    index = rc.load_index(TINY)
    found = lookup.lookup("チタ州カダラ", index, [], tr.default_model(), T_PARAMS, R_PARAMS, 3)
    assert found.outcome.place_id == "kadala" and found.regions == ("chita",)
    assert found.query.region_hint == "チタ" and len(found.outcome.candidates) <= 3
    payload = lookup.lookup(
        "スパスク", index, [], tr.default_model(), T_PARAMS, R_PARAMS, 2
    ).as_dict()
    assert payload["decision"] == "review" and len(payload["candidates"]) == 2


def test_lookup_uses_the_transliterate_params() -> None:
    # transliterate.top_k reaches the Cyrillic guesses: lookup no longer uses defaults.
    index = rc.load_index(TINY)
    one = lookup.lookup(
        "ハバロフスク",
        index,
        [],
        tr.default_model(),
        dataclasses.replace(T_PARAMS, top_k=1),
        R_PARAMS,
    )
    assert len(one.query.cyrillic) == 1
    assert (
        len(
            lookup.lookup(
                "ハバロフスク", index, [], tr.default_model(), T_PARAMS, R_PARAMS
            ).query.cyrillic
        )
        > 1
    )


def test_cli_lookup_table_and_json(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(cli, ["lookup", "チタ州カダラ", "--gazetteer", str(TINY), "--top", "3"])
    assert result.exit_code == 0, result.stderr
    assert "kadala" in result.stdout and "region hint チタ -> chita" in result.stdout
    result = runner.invoke(
        cli, ["lookup", "スパスク", "--gazetteer", str(TINY), "-k", "2", "--json"]
    )
    payload = json.loads(result.stdout)["q0"]
    assert payload["decision"] == "review" and len(payload["candidates"]) == 2
    result = runner.invoke(cli, ["lookup", "チタ", "--gazetteer", str(tmp_path / "nothing")])
    assert result.exit_code == 1 and "the gazetteer is not built" in result.stderr


def test_cli_lookup_applies_a_katakana_override(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    overrides = tmp_path / "o.csv"
    row = {"katakana": "スパスク", "place_id": "spassk-karaganda", "decision": "accept"}
    write_csv(overrides, list(row), [row])
    args = ["lookup", "スパスク", "--gazetteer", str(TINY), "--overrides", str(overrides)]
    result = runner.invoke(cli, [*args, "--json"])
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)["q0"]
    assert (payload["place_id"], payload["decision"]) == ("spassk-karaganda", "override")


def test_cli_lookup_says_where_for_several_names_in_english_and_japanese(  # type: ignore[no-untyped-def]
    runner,
) -> None:
    """Issue 16: `camps lookup` never said where the place is."""
    args = [
        "lookup",
        "チタ州カダラ",
        "ハバロフスク",
        "ロンドン",
        "--gazetteer",
        str(TINY),
        "-k",
        "2",
    ]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    assert "チタ州カダラ: Kadala (Кадала)" in text and "ハバロフスク: Khabarovsk" in text
    assert "country: RU" in text and "geo:52.07000,113.37000;u=" in text
    assert "https://www.openstreetmap.org/?mlat=52.07000&mlon=113.37000" in text
    assert "certainty: " in text and "km of the point" in text
    assert "ロンドン: no place" in text
    result = runner.invoke(cli, [*args, "--lang", "ja"])
    assert result.exit_code == 0 and "確からしさ: " in result.stdout and "半径約" in result.stdout
    result = runner.invoke(cli, [*args, "--json"])
    batch = json.loads(result.stdout)
    # The reconciliation API's result batch: one key per query, each with its candidates.
    assert list(batch) == ["q0", "q1", "q2"]
    for answer in batch.values():
        assert isinstance(answer["result"], list) and len(answer["result"]) <= 2
        for cand in answer["result"]:
            assert {"id", "name", "score", "match"} <= set(cand)
            assert isinstance(cand["score"], float) and isinstance(cand["match"], bool)
    where = batch["q0"]["where"]
    assert (where["place_id"], where["cyrillic"], where["country"]) == ("kadala", "Кадала", "RU")
    assert where["geo_uri"].startswith("geo:52.07000,113.37000;u=") and where["osm_url"]
    assert batch["q2"]["where"] is None


def test_cli_lookup_postal_villages_need_their_region(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # The project's gazetteer built with the postal-code layer (gazetteer.postal: true)
    # from a real extract of GeoNames' postal codes: Тумнин (a station of the
    # Komsomolsk–Sovetskaya Gavan line, no cities500 place, curated from its postal
    # code) is found once; the postal Чита of Tatarstan never wins over the town,
    # with a hint for neither or none.
    from pipeline import gazetteer

    repo = Path(__file__).resolve().parent.parent
    extract = Path(__file__).parent / "data" / "postal" / "geonames_data_extract.jsonl.gz"
    built = tmp_path / "build"
    gazetteer.run(
        repo / "gazetteer" / "places.csv",
        repo / "gazetteer" / "regions.csv",
        built,
        gazetteer.GazetteerParams(postal=True),
        postal_file=extract,
    )
    names = ["ハバロフスク地方トゥムニン", "トゥムニン村", "チタ", "ハバロフスク地方チタ"]
    args = ["lookup", *names, "--json", "--top", "10", "--gazetteer", str(built)]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    got = json.loads(result.stdout)
    top = {q: got[q]["result"][0] for q in ("q0", "q1", "q2")}
    # Tumnin is curated now (its point from this postal code): the postal place of the
    # same name at that point merges into it instead of standing beside it; with its
    # region it is surer than without.
    assert top["q0"]["id"] == top["q1"]["id"] == "tumnin"
    assert top["q0"]["score"] > top["q1"]["score"]
    assert not any(c["id"] == "zip:RU:682865" for q in got.values() for c in q["result"])
    assert (top["q2"]["id"], top["q2"]["match"]) == ("chita", True)
    assert not any(c["match"] and c["id"].startswith("zip:") for c in got["q3"]["result"])


def test_cli_lookup_imports_only_what_a_lookup_needs(tmp_path: Path) -> None:
    """`camps lookup` starts in half a second: it never imports the process pool, the
    workbook and GIS modules of pipeline.io, the stages' `run` modules, geopy or
    pandas; the names exported lazily by the packages still resolve (pipeline.lazy)."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from pipeline.cli import main\n"
        "sys.argv = ['camps', '-q', 'lookup', 'ライチハ']\n"
        "try:\n    main()\n"
        "finally:\n    print(sorted(sys.modules), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert "Raichikhinsk" in done.stdout
    loaded = done.stderr
    for module in (
        "multiprocessing",
        "pipeline.pool",
        "pipeline.io.sheets",
        "pipeline.io.gis",
        "pipeline.io.workbook",
        "pipeline.reconcile.stage",
        "pipeline.transliterate.evaluation",
        "geopy",
        "pandas",
        "pyogrio",
    ):
        assert f"'{module}'" not in loaded, module
    from pipeline import io

    assert rc.run.__module__ == "pipeline.reconcile.stage"
    assert tr.gold_pairs.__module__ == "pipeline.transliterate.evaluation"
    assert io.write_gpkg.__module__ == "pipeline.io.gis" and io.read_sheet.__name__ == "read_sheet"
    with pytest.raises(AttributeError, match="no_such_name"):
        rc.no_such_name  # noqa: B018
