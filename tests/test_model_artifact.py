"""The transliteration model's artifact: round trip, staleness, corruption, unwritable cache.

The model learned from scratch (:func:`build_model`) is compared with the one loaded
from its artifact on every katakana name of the committed registers and test sets;
the command-line tests run ``camps lookup`` in fresh processes, as a user would.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline import artifacts
from pipeline.transliterate import artifact, build_model
from pipeline.transliterate.model import Model

REPO = Path(__file__).resolve().parent.parent
NAME_FILES = (
    "raw/camps.csv",
    "raw/gold_dev.csv",
    "raw/realnames_dev.csv",
    "tests/data/transliterate_cases.csv",
    "tests/data/spellings_cases.csv",
)


def real_names() -> list[str]:
    """Every distinct katakana cell of the committed registers and test sets."""
    names: dict[str, None] = {}
    for name in NAME_FILES:
        with (REPO / name).open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                names.setdefault(row["katakana"], None)
    return [name for name in names if name]


@pytest.fixture(scope="module")
def built() -> Model:
    return build_model()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory, built: Model) -> Path:
    """A cache folder holding the artifact of the current inputs."""
    out = tmp_path_factory.mktemp("cache")
    artifact.save(built, out, artifact.inputs())
    return out


def test_round_trip_same_candidates(built: Model, folder: Path) -> None:
    loaded = artifact.load(folder, artifact.inputs())
    names = real_names()
    assert len(names) > 300
    for name in names:
        assert loaded.cyrillic_candidates(name, 10) == built.cyrillic_candidates(name, 10), name
    assert loaded.n_names == built.n_names and loaded.hold_out is False
    assert dict(loaded.channel) == dict(built.channel)
    # Every state's row, made lazily from the arrays, equals the learned one.
    assert set(loaded.lm.states) == set(built.lm.rows)
    assert all(loaded.lm.rows[s] == row for s, row in built.lm.rows.items())


def test_loaded_tables_equal_the_learned_ones(built: Model, folder: Path) -> None:
    """The lexicon's tables and the letter counts, searched in the saved arrays, hold
    what the learned dicts hold, key by key; a key that is not there is absent."""
    loaded = artifact.load(folder, artifact.inputs())
    pairs = [
        (loaded.lexicon.names, built.lexicon.names),
        (loaded.lexicon.near, built.lexicon.near),
        (loaded.lexicon.spelled, built.lexicon.spelled),
        (loaded.lm.grams, built.lm.grams),
        (loaded.lm.contexts, built.lm.contexts),
        (loaded.lm.weight, built.lm.weight),
    ]
    for table, learned in pairs:
        assert isinstance(table, artifact.Table)
        assert len(table) == len(learned) and set(table) == set(learned)
        assert all(table[key] == value for key, value in learned.items())
        for missing in ("", "ー" * 40, "ЯЯЯЯЯЯ", "zz"):
            if missing not in learned:
                assert missing not in table and table.get(missing) is None
    assert loaded.lm.contexts[""] == built.lm.contexts[""]  # the empty context is a key
    assert 3 not in loaded.lexicon.names  # not a string: absent, no error


def test_table_made_whole_answers_as_searched(
    built: Model, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A table becomes a dict after its searches (or before a pool forks) and answers
    the same: the keys read before, hits and misses, and every other key."""
    monkeypatch.setattr(artifact, "_SEARCHES", 50)
    loaded = artifact.load(folder, artifact.inputs())
    near, learned = loaded.lexicon.near, built.lexicon.near
    keys = sorted(learned)[::997]
    misses = ["", "ー" * 40, "zz", *(k + "ヲ" for k in keys[:20])]
    before = {k: near.get(k) for k in [*keys[:20], *misses]}
    assert not near._whole
    after = {k: near.get(k) for k in [*keys, *misses]}  # more than 50 searches
    assert near._whole
    assert {k: after[k] for k in before} == before
    assert all(after[k] == learned[k] for k in keys)
    assert all(k not in near and after[k] is None for k in misses if k not in learned)
    fresh = artifact.load(folder, artifact.inputs())
    artifact.make_whole(fresh)
    tables = (fresh.lexicon.names, fresh.lexicon.spelled, fresh.lm.grams, fresh.lm.weight)
    assert all(t._whole for t in tables)  # type: ignore[attr-defined]
    assert dict(fresh.lexicon.names) == dict(built.lexicon.names)
    assert dict(fresh.lm.grams) == dict(built.lm.grams)


def test_table_offsets_that_do_not_fit_are_unreadable(tmp_path: Path, built: Model) -> None:
    """Arrays that pass the checksum but whose offsets run past their strings."""
    import hashlib
    import io

    import numpy as np

    made_of = artifact.inputs()
    arrays = artifact._arrays(built)
    arrays["near.offsets"] = arrays["near.offsets"] + 1
    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=False, **arrays)
    path, manifest = artifact.paths(tmp_path, made_of)
    path.write_bytes(buffer.getvalue())
    digest = hashlib.sha256(buffer.getvalue()).hexdigest()
    manifest.write_text(json.dumps({"inputs": made_of, "sha256": digest}))
    with pytest.raises(artifact.ArtifactError, match=r"unreadable .*near: offsets do not fit"):
        artifact.load(tmp_path, made_of)


def test_cached_model_loads_without_building(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_build(hold_out: bool = False) -> Model:
        raise AssertionError("built although a good artifact is there")

    monkeypatch.setattr(artifact, "build_model", no_build)
    model = artifact.cached_model(folder=folder)
    assert model.cyrillic_candidates("ハバロフスク", 1)[0][0] == "Хабаровск"


def test_changed_input_is_another_artifact(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A changed toponym list (or GeoNames, code, hold_out) names another file."""
    before = artifact.inputs()
    toponyms = folder / "toponyms.txt"
    toponyms.write_text("# other list\nчита\n", encoding="utf-8")
    monkeypatch.setattr(artifact, "TOPONYMS_PATH", toponyms)
    after = artifact.inputs()
    assert after["toponyms"] != before["toponyms"]
    assert artifact.paths(folder, after) != artifact.paths(folder, before)
    assert artifacts.key(artifact.inputs(hold_out=True)) != artifacts.key(before)
    with pytest.raises(FileNotFoundError):
        artifact.load(folder, after)


def test_stale_manifest_is_rebuilt(
    tmp_path: Path, built: Model, caplog: pytest.LogCaptureFixture
) -> None:
    """An artifact whose manifest names other inputs is never used."""
    made_of = artifact.inputs()
    artifact.save(built, tmp_path, made_of)
    _, manifest = artifact.paths(tmp_path, made_of)
    record = json.loads(manifest.read_text())
    record["inputs"]["toponyms"] = "0" * 64
    manifest.write_text(json.dumps(record))
    with pytest.raises(artifact.ArtifactError, match="other inputs"):
        artifact.load(tmp_path, made_of)
    calls: list[bool] = []

    def build(hold_out: bool = False) -> Model:
        calls.append(hold_out)
        return built

    with caplog.at_level(logging.WARNING), pytest.MonkeyPatch.context() as patch:
        patch.setattr(artifact, "build_model", build)
        artifact.cached_model(folder=tmp_path)
    assert calls == [False]
    assert "made from other inputs; rebuilding it" in caplog.text
    assert artifact.load(tmp_path, made_of).n_names == built.n_names  # rewritten, good again


@pytest.mark.parametrize("damage", ["truncate", "foreign"])
def test_corrupt_artifact_is_rebuilt(
    tmp_path: Path, built: Model, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    made_of = artifact.inputs()
    path = artifact.save(built, tmp_path, made_of)
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    else:  # another valid npz in its place
        import numpy as np

        np.savez(path, meta=np.zeros(3, dtype=np.uint8))
    with pytest.raises(artifact.ArtifactError, match="checksum differs"):
        artifact.load(tmp_path, made_of)
    with caplog.at_level(logging.WARNING), pytest.MonkeyPatch.context() as patch:
        patch.setattr(artifact, "build_model", lambda hold_out=False: built)
        model = artifact.cached_model(folder=tmp_path)
    assert model is built
    assert "truncated or foreign; rebuilding it" in caplog.text
    assert path.read_bytes() != data[: len(data) // 2]
    artifact.load(tmp_path, made_of)  # the rebuilt artifact verifies


def test_unreadable_contents_are_an_error(tmp_path: Path, built: Model) -> None:
    """A checksum that matches bytes that are no artifact (a hand-made manifest)."""
    made_of = artifact.inputs()
    path, manifest = artifact.paths(tmp_path, made_of)
    path.write_bytes(b"not a zip file")
    import hashlib

    record = {"inputs": made_of, "sha256": hashlib.sha256(b"not a zip file").hexdigest()}
    manifest.write_text(json.dumps(record))
    with pytest.raises(artifact.ArtifactError, match="unreadable"):
        artifact.load(tmp_path, made_of)


def _lookup(cache: Path, *names: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, artifacts.CACHE_ENV: str(cache)}
    camps = Path(sys.executable).with_name("camps")
    return subprocess.run(
        [str(camps), "lookup", *names, "--json"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_lookup_builds_then_loads_same_answers(tmp_path: Path) -> None:
    """`camps lookup` in a fresh cache builds and saves; the next process loads it."""
    cache = tmp_path / "cache"
    first = _lookup(cache, "ライチハ", "ハバロフスク")
    assert first.returncode == 0, first.stderr
    assert "no artifact in" in first.stderr and "saved" in first.stderr
    assert len(list(cache.glob("transliteration-*.npz"))) == 1
    second = _lookup(cache, "ライチハ", "ハバロフスク")
    assert second.returncode == 0, second.stderr
    assert "transliteration model" not in second.stderr  # loaded silently
    assert second.stdout == first.stdout
    assert "Хабаровск" in second.stdout


def test_lookup_with_unwritable_cache_warns_and_answers(tmp_path: Path) -> None:
    """A cache path that cannot be a folder (a file is in the way): built in memory."""
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    done = _lookup(blocker / "camps", "ハバロフスク")
    assert done.returncode == 0, done.stderr
    assert "cannot be written" in done.stderr and "built in memory only" in done.stderr
    assert "Хабаровск" in done.stdout


def test_untouched_artifact_is_not_hashed_again_a_touched_one_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The manifest records the stat of the file its checksum was taken of: that file is
    read without hashing; the same number of bytes written over it (a new mtime), or
    another file put in its place, is hashed again and refused."""
    made_of = {"format": 0, "what": "test"}
    path = artifacts.write(tmp_path, "probe", made_of, b"0123456789" * 100, ".bin")
    real = artifacts.hashlib.sha256
    hashed: list[int] = []

    def counting(data: bytes = b"") -> object:
        if len(data) == 1000:  # the artifact's bytes, not a file name's digest
            hashed.append(len(data))
        return real(data)

    monkeypatch.setattr(artifacts.hashlib, "sha256", counting)
    assert artifacts.read(tmp_path, "probe", made_of, ".bin") == b"0123456789" * 100
    assert hashed == []
    before = path.stat().st_mtime_ns
    path.write_bytes(b"9123456789" * 100)  # same size, other bytes
    os.utime(path, ns=(before + 1_000_000, before + 1_000_000))
    with pytest.raises(artifacts.ArtifactError, match="checksum differs"):
        artifacts.read(tmp_path, "probe", made_of, ".bin")
    assert hashed == [1000]
    other = tmp_path / "other.bin"
    other.write_bytes(b"0123456789" * 100)  # the same bytes in another file: verifies
    os.replace(other, path)
    assert artifacts.read(tmp_path, "probe", made_of, ".bin") == b"0123456789" * 100
    assert hashed == [1000, 1000]
