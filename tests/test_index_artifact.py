"""The built-once artifacts of the gazetteer build: the loaded gazetteer, the reconcile
index and the geocoder's name index. Round trip, staleness, corruption, unwritable cache.

On the committed gazetteer build (``gazetteer/build``): what the cache gives equals
what is read and built from scratch, field by field.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

from pipeline import area, artifacts, places
from pipeline.geocode import artifact as geocode_artifact
from pipeline.geocode.points import index_names
from pipeline.reconcile import artifact, build_index, load_index
from pipeline.reconcile.index import Index

REPO = Path(__file__).resolve().parent.parent
BUILD = REPO / "gazetteer" / "build"


@pytest.fixture(scope="module")
def gazetteer(tmp_path_factory: pytest.TempPathFactory) -> places.Gazetteer:
    return places.load(BUILD, tmp_path_factory.mktemp("gazetteer"))


@pytest.fixture(scope="module")
def plain(gazetteer: places.Gazetteer) -> Index:
    return build_index(gazetteer)


def same(a: Index, b: Index) -> None:
    for field in dataclasses.fields(Index):
        x, y = getattr(a, field.name), getattr(b, field.name)
        if field.name == "postings":
            assert x.keys() == y.keys()
            assert all((x[gram] == y[gram]).all() for gram in x)
        elif isinstance(x, np.ndarray):  # made from the keys (key_array, key_lengths)
            assert np.array_equal(x, y), field.name
        else:
            assert x == y, field.name


def test_gazetteer_round_trip(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        first = places.load(BUILD, tmp_path)
    assert "not saved" in caplog.text and "saved" in caplog.text
    assert first == places.read(BUILD)
    assert first.key == places.load(BUILD, tmp_path).key != ""
    again = places.load_saved(tmp_path, places.inputs(BUILD))
    assert again == first and len(again.names) > 100_000
    assert isinstance(next(iter(again.regions.values())).kana, tuple)


def test_gazetteer_rebuilt_is_another_file(tmp_path: Path) -> None:
    """A gazetteer rebuilt with other names never reads the artifact of the old one."""
    other = tmp_path / "build"
    shutil.copytree(BUILD, other)
    places.load(BUILD, tmp_path / "cache")
    with (other / "names.csv").open("a", encoding="utf-8") as handle:
        handle.write("zz:1,Zzz,ru,Cyrl,modern,test\n")
    assert places.inputs(other) != places.inputs(BUILD)
    with pytest.raises(FileNotFoundError):
        places.load_saved(tmp_path / "cache", places.inputs(other))
    loaded = places.load(other, tmp_path / "cache")
    assert loaded.names[-1].name == "Zzz" and loaded.key != places.load(BUILD, tmp_path).key


def test_truncated_gazetteer_is_read_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    places.load(BUILD, tmp_path)
    (path,) = tmp_path.glob("gazetteer-*.data")
    path.write_bytes(path.read_bytes()[:1000])
    with caplog.at_level(logging.WARNING):
        loaded = places.load(BUILD, tmp_path)
    assert "truncated or foreign; reading the CSVs again" in caplog.text
    assert loaded == places.read(BUILD)
    places.load_saved(tmp_path, places.inputs(BUILD))  # rewritten, verifies


def test_saved_gazetteer_makes_only_what_is_read(tmp_path: Path) -> None:
    """Places and names of a saved gazetteer are made when read, and equal those of
    the CSVs: each place by id, each name by number, a whole column at once."""
    places.load(BUILD, tmp_path)  # read from the CSVs and saved
    saved = places.load(BUILD, tmp_path)
    plain = places.read(BUILD)
    assert isinstance(saved.places, places.Places) and isinstance(saved.names, places.Names)
    assert saved.places == plain.places and list(saved.places) == list(plain.places)
    assert "chita" in saved.places and "no such place" not in saved.places
    assert saved.places["chita"] == plain.places["chita"]
    for number in (0, 1, len(plain.names) // 2, len(plain.names) - 1, -1):
        assert saved.names[number] == plain.names[number]
    for field in places.NAME_COLUMNS:
        column = places.name_column(saved.names, field)
        assert list(column) == [getattr(n, field) for n in plain.names], field


@pytest.mark.parametrize(
    "damage", ["another layout", "columns cut short", "a name more", "not JSON"]
)
def test_saved_gazetteer_that_does_not_fit_is_unreadable(
    tmp_path: Path, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Bytes that pass their checksum (a hand-made manifest) but are no gazetteer of this
    layout: refused with the reason, and read again from the CSVs, never used."""
    made_of = places.inputs(BUILD)
    path = places.save(places.read(BUILD), tmp_path, made_of)
    data = path.read_bytes()
    if damage == "another layout":
        data = b"camps gazetteer 2\n" + data[len(places.MAGIC) :]
    elif damage == "columns cut short":
        data = data[:-4]
    elif damage == "a name more":
        assert b"\x00Chita\x00" in data
        data = data.replace(b"\x00Chita\x00", b"\x00Chi\x00a\x00", 1)  # one name more
    else:
        data = data[: len(places.MAGIC) + 8] + b"x" + data[len(places.MAGIC) + 9 :]
    path.write_bytes(data)
    _, manifest = artifacts.paths(tmp_path, places.KIND, made_of, ".data")
    digest = hashlib.sha256(data).hexdigest()
    manifest.write_text(json.dumps({"inputs": made_of, "sha256": digest}))
    with pytest.raises(artifacts.ArtifactError, match="unreadable"):
        places.load_saved(tmp_path, made_of)
    with caplog.at_level(logging.WARNING):
        loaded = places.load(BUILD, tmp_path)
    assert "unreadable" in caplog.text and "reading the CSVs again" in caplog.text
    assert loaded == places.read(BUILD)


def test_index_round_trip(
    tmp_path: Path, gazetteer: places.Gazetteer, plain: Index, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        first = artifact.cached_index(gazetteer, tmp_path)
    assert "not saved" in caplog.text and "saved" in caplog.text
    same(first, plain)
    loaded = artifact.load(tmp_path, gazetteer)
    assert loaded.model is None  # the file holds no score model: cached_index attaches it
    same(dataclasses.replace(loaded, model=plain.model), plain)  # every lazy entry too
    assert len(loaded.kana_entries) > 10_000


def test_load_index_uses_the_cache(
    tmp_path: Path, plain: Index, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAMPS_CACHE", str(tmp_path))
    same(load_index(BUILD), plain)
    assert len(list(tmp_path.glob("reconcile-index-*.npz"))) == 1
    assert len(list(tmp_path.glob("gazetteer-*.data"))) == 1
    same(load_index(BUILD), plain)  # now from the saved files


def test_index_of_another_gazetteer_is_another_file(
    tmp_path: Path, gazetteer: places.Gazetteer
) -> None:
    artifact.cached_index(gazetteer, tmp_path)
    other = dataclasses.replace(gazetteer, key="0" * 32)
    with pytest.raises(FileNotFoundError):
        artifact.load(tmp_path, other)


def test_corrupt_index_is_built_again(
    tmp_path: Path, gazetteer: places.Gazetteer, plain: Index, caplog: pytest.LogCaptureFixture
) -> None:
    path = artifact.save(plain, tmp_path)
    data = bytearray(path.read_bytes())
    data[5000] ^= 1  # one bit flipped, same length
    path.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING):
        index = artifact.cached_index(gazetteer, tmp_path)
    assert "checksum differs" in caplog.text and "building it again" in caplog.text
    same(index, plain)
    artifact.load(tmp_path, gazetteer)  # rewritten, verifies


def test_foreign_manifest_is_not_used(
    tmp_path: Path, gazetteer: places.Gazetteer, plain: Index, caplog: pytest.LogCaptureFixture
) -> None:
    path = artifact.save(plain, tmp_path)
    manifest = path.with_suffix(".json")
    manifest.write_text('{"inputs": {"format": 0}, "sha256": "x"}', encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        same(artifact.cached_index(gazetteer, tmp_path), plain)
    assert "made from other inputs" in caplog.text


def test_unwritable_cache_keeps_everything_in_memory(
    tmp_path: Path, plain: Index, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with caplog.at_level(logging.WARNING):
        gazetteer = places.load(BUILD, blocker / "camps")
        index = artifact.cached_index(gazetteer, blocker / "camps")
        names = geocode_artifact.name_index(gazetteer, blocker / "camps")
        assert len(names.places) > 100_000  # read on first use
    assert caplog.text.count("cannot be written") == 3 and "kept in memory only" in caplog.text
    same(index, plain)
    assert names == index_names(gazetteer)


def test_geocoder_name_index_round_trip(
    tmp_path: Path, gazetteer: places.Gazetteer, caplog: pytest.LogCaptureFixture
) -> None:
    built = index_names(gazetteer)
    assert geocode_artifact.name_index(gazetteer, tmp_path) == built
    assert geocode_artifact.load(tmp_path, gazetteer) == built.places
    (path,) = tmp_path.glob("geocode-names-*.json.data")
    path.write_bytes(b"{}")
    with caplog.at_level(logging.WARNING):
        assert geocode_artifact.name_index(gazetteer, tmp_path) == built
    assert "truncated or foreign; building it again" in caplog.text


def test_world_points_round_trip_and_truncation(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The cities500 points behind area.country_of: saved once, equal, a truncated file re-read."""
    read = area.read_world_points()
    saved = area.world_points(tmp_path)
    assert all((a == b).all() for a, b in zip(read, saved, strict=True))
    loaded = area.load_world_points(tmp_path, area.world_inputs())
    assert all((a == b).all() for a, b in zip(read, loaded, strict=True))
    assert len(loaded[2]) > 200_000 and {"RU", "MN", "JP"} <= set(loaded[2].tolist())
    (path,) = tmp_path.glob("world-places-*.npz")
    path.write_bytes(path.read_bytes()[:5000])
    with caplog.at_level(logging.WARNING):
        again = area.world_points(tmp_path)
    assert "truncated or foreign; building it again" in caplog.text
    assert all((a == b).all() for a, b in zip(read, again, strict=True))


def test_exact_entries_are_found_by_bisection_in_sorted_keys(
    tmp_path: Path, gazetteer: places.Gazetteer, plain: Index
) -> None:
    """The exact maps are saved by sorted key and searched by bisection: each key of the
    built index is found with its entries, others are absent, unsorted keys refused."""
    artifact.cached_index(gazetteer, tmp_path)
    loaded = artifact.load(tmp_path, gazetteer)
    for field in ("cyrillic", "latin"):
        table, built = getattr(loaded, field), getattr(plain, field)
        assert isinstance(table, artifact.Entries) and list(table) == sorted(built)
        some = sorted(built)[::251]
        assert [table[key] for key in some] == [built[key] for key in some]
        assert "" not in table and "zzzz-no-such-name" not in table and 7 not in table
        assert table.get("zzzz-no-such-name") is None
    assert loaded.latin_keys == tuple(sorted(plain.latin)) == plain.latin_keys
    rows = np.zeros(0, dtype=np.int32)
    with pytest.raises(ValueError, match="keys not sorted"):
        artifact.Entries(["b", "a"], np.zeros(3, dtype=np.int64), rows, lambda row, part: None)  # type: ignore[arg-type, return-value]
