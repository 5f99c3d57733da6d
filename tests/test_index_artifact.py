"""The reconcile index's saved name keys: round trip, staleness, corruption, unwritable cache.

On the committed gazetteer build (``gazetteer/build``): the index built with the
saved keys equals the one built from scratch, field by field.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
from pathlib import Path

import pytest

from pipeline import places
from pipeline.reconcile import artifact, build_index, load_index
from pipeline.reconcile.index import Index

REPO = Path(__file__).resolve().parent.parent
BUILD = REPO / "gazetteer" / "build"


@pytest.fixture(scope="module")
def gazetteer() -> places.Gazetteer:
    return places.load(BUILD)


@pytest.fixture(scope="module")
def plain(gazetteer: places.Gazetteer) -> Index:
    return build_index(gazetteer)


def same(a: Index, b: Index) -> None:
    for field in dataclasses.fields(Index):
        x, y = getattr(a, field.name), getattr(b, field.name)
        if field.name == "postings":
            assert x.keys() == y.keys()
            assert all((x[gram] == y[gram]).all() for gram in x)
        else:
            assert x == y, field.name


def test_round_trip_same_index(
    tmp_path: Path, gazetteer: places.Gazetteer, plain: Index, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        first = artifact.cached_keys(BUILD, gazetteer, tmp_path)
    assert "no saved keys" in caplog.text and "saved" in caplog.text
    loaded = artifact.load(tmp_path, artifact.inputs(BUILD))
    assert loaded.keys() == first.keys()
    assert len(loaded["Cyrl"]) > 10_000
    same(build_index(gazetteer, loaded), plain)


def test_load_index_uses_the_cache(
    tmp_path: Path, plain: Index, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAMPS_CACHE", str(tmp_path))
    same(load_index(BUILD), plain)
    assert len(list(tmp_path.glob("reconcile-keys-*.json.data"))) == 1
    same(load_index(BUILD), plain)  # now from the saved keys


def test_changed_names_are_another_file(tmp_path: Path, gazetteer: places.Gazetteer) -> None:
    """A gazetteer rebuilt with other names never reads the keys of the old one."""
    artifact.cached_keys(BUILD, gazetteer, tmp_path)
    other = tmp_path / "build"
    shutil.copytree(BUILD, other)
    with (other / "names.csv").open("a", encoding="utf-8") as handle:
        handle.write("\n")
    assert artifact.inputs(other) != artifact.inputs(BUILD)
    with pytest.raises(FileNotFoundError):
        artifact.load(tmp_path, artifact.inputs(other))


def test_truncated_keys_are_derived_again(
    tmp_path: Path, gazetteer: places.Gazetteer, plain: Index, caplog: pytest.LogCaptureFixture
) -> None:
    path = artifact.save(artifact.derive_all(gazetteer), tmp_path, artifact.inputs(BUILD))
    path.write_bytes(path.read_bytes()[:1000])
    with caplog.at_level(logging.WARNING):
        keys = artifact.cached_keys(BUILD, gazetteer, tmp_path)
    assert "truncated or foreign; deriving the keys again" in caplog.text
    same(build_index(gazetteer, keys), plain)
    artifact.load(tmp_path, artifact.inputs(BUILD))  # rewritten, verifies


def test_unwritable_cache_keeps_keys_in_memory(
    tmp_path: Path, gazetteer: places.Gazetteer, plain: Index, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with caplog.at_level(logging.WARNING):
        keys = artifact.cached_keys(BUILD, gazetteer, blocker / "camps")
    assert "cannot be written" in caplog.text and "kept in memory only" in caplog.text
    same(build_index(gazetteer, keys), plain)
