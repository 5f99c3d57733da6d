"""camps calibrate: the learned score, its calibration, its artifact (issue 20)."""

from __future__ import annotations

import csv
import json
import math
import random
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from pipeline import calibrate as cal
from pipeline.artifacts import ArtifactError
from pipeline.cli import cli
from pipeline.plots import Scored, expected_calibration_error
from pipeline.reconcile import model as score_model

REPO = Path(__file__).resolve().parents[1]
RECONCILED = REPO / "output" / "stages" / "reconciled.csv"


def _terms(evidence: float, population: float) -> tuple[float, ...]:
    values = dict.fromkeys(score_model.TERMS, 0.0)
    values["evidence"] = evidence
    values["population"] = population
    return tuple(values[t] for t in score_model.TERMS)


def _truth(evidence: float, population: float) -> float:
    """The known answer: P(right) of a lone candidate."""
    return 1.0 / (1.0 + math.exp(-(-4.0 + 6.0 * evidence + 2.0 * population)))


def _synthetic(n: int, seed: int) -> list[cal.Example]:
    rng = random.Random(seed)
    out = []
    for number in range(n):
        evidence, population = rng.random(), rng.random()
        right = 0 if rng.random() < _truth(evidence, population) else None
        source = "geonames" if number % 2 else "gold_dev"
        out.append(cal.Example(source, f"name{number}", (_terms(evidence, population),), right))
    return out


def test_fit_recovers_a_known_probability_on_synthetic_names() -> None:
    params = cal.CalibrateParams(calibration_share=0.3, regularization=100.0, dev_weight=1.0)
    fitted = cal.fit(_synthetic(6000, seed=1), params)
    for evidence, population in [(0.2, 0.1), (0.5, 0.5), (0.7, 0.2), (0.9, 0.9)]:
        (p,) = fitted.distribution([fitted.logit(_terms(evidence, population))])
        assert abs(p - _truth(evidence, population)) < 0.05, (evidence, population, p)
    # Fresh names from the same law: the scores are calibrated.
    rows = []
    for example in _synthetic(3000, seed=2):
        (p,) = fitted.distribution([fitted.logit(example.terms[0])])
        rows.append(Scored(p, "review", example.right == 0, True, None))
    assert expected_calibration_error(rows) < 0.03


def test_two_equal_namesakes_share_the_probability() -> None:
    params = cal.CalibrateParams(calibration_share=0.3, regularization=100.0, dev_weight=1.0)
    fitted = cal.fit(_synthetic(3000, seed=3), params)
    lone = fitted.distribution([fitted.logit(_terms(1.0, 1.0))])
    pair = fitted.distribution([fitted.logit(_terms(1.0, 1.0))] * 2)
    assert lone[0] > 0.9
    assert pair[0] == pair[1] and sum(pair) < 1 and pair[0] < 0.5 < lone[0]


def test_every_candidate_list_of_the_run_sums_to_at_most_one() -> None:
    rows = list(csv.DictReader(RECONCILED.open(encoding="utf-8")))
    assert len(rows) > 100
    lists = [json.loads(r["candidates"]) for r in rows if r["candidates"]]
    assert sum(1 for c in lists if len(c) > 1) > 50
    for candidates in lists:
        # Each score is rounded to 4 places in the JSON.
        assert sum(c["score"] for c in candidates) <= 1 + 0.00005 * len(candidates)
        assert all(0 <= c["score"] <= 1 for c in candidates)


def test_the_packaged_model_verifies_and_params_keep_the_threshold_only() -> None:
    fitted = score_model.load()
    params = yaml.safe_load((REPO / "params.yaml").read_text("utf-8"))["reconcile"]
    assert not [k for k in params if k.startswith("weight_") or k == "bias"]
    assert params["auto_threshold"] >= fitted.info["auto_threshold_dev"]
    assert fitted.info["names"]["geonames"] > 500


def test_an_edited_model_is_refused_with_the_fix(tmp_path: Path) -> None:
    record = json.loads(score_model.PACKAGED.read_text("utf-8"))
    record["coef"][0] += 1.0
    edited = tmp_path / "score_model.json"
    edited.write_text(json.dumps(record), "utf-8")
    with pytest.raises(ArtifactError, match=r"checksum differs.*camps calibrate"):
        score_model.load(edited)
    edited.write_bytes(score_model.PACKAGED.read_bytes()[:200])
    with pytest.raises(ArtifactError, match=r"not JSON.*camps calibrate"):
        score_model.load(edited)


def test_calibrate_keeps_a_current_model(tmp_path: Path) -> None:
    # The committed model has the inputs of this checkout: nothing is fitted.
    target = tmp_path / "score_model.json"
    target.write_bytes(score_model.PACKAGED.read_bytes())
    result = CliRunner().invoke(cli, ["calibrate", "--output", str(target)])
    assert result.exit_code == 0, result.output
    assert "is up to date" in result.stderr
    assert target.read_bytes() == score_model.PACKAGED.read_bytes()
    assert "score model: intercept" in result.stdout


@pytest.mark.slow
def test_calibrate_refits_a_corrupt_model_to_the_same_bytes(tmp_path: Path) -> None:
    target = tmp_path / "score_model.json"
    target.write_bytes(score_model.PACKAGED.read_bytes()[:-40])
    result = CliRunner().invoke(cli, ["calibrate", "--output", str(target)])
    assert result.exit_code == 0, result.output
    assert "fitting again" in result.stderr
    # The fit is deterministic: the rebuilt model is the committed one.
    assert target.read_bytes() == score_model.PACKAGED.read_bytes()
    assert "auto_threshold for precision 1.00" in result.stdout


def test_a_stale_model_says_what_changed(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    record = json.loads(score_model.PACKAGED.read_text("utf-8"))
    record.pop("sha256")
    record["inputs"]["gold"] = "0" * 64
    stale = score_model.ScoreModel(
        tuple(record["coef"]),
        record["intercept"],
        record["slope"],
        record["offset"],
        record["inputs"],
        record["info"],
    )
    target = tmp_path / "score_model.json"
    target.write_bytes(stale.to_json())
    made_of = dict(score_model.load().inputs)
    assert cal._current(target, made_of) is None
    assert "is stale (made from other gold)" in caplog.text
    assert cal._current(score_model.PACKAGED, made_of) is not None
