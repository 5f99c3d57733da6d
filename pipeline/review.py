"""``camps review``: the review queue of a reconciled CSV, and decisions recorded for it.

A row the matcher was not sure of (``decision`` review) waits for a person, who
accepts one place or rejects the row; each decision goes into overrides.csv
through :mod:`pipeline.overrides` (every column the file has is kept) and wins
on the next ``camps reconcile``. The queue and the decisions are read from the
reconciled CSV and the built gazetteer alone: the matcher is not run again.

This module returns data; :mod:`pipeline.cli` prints it. It may import
:mod:`pipeline.overrides`, :mod:`pipeline.gazetteer` (the built places),
:mod:`pipeline.io` and :mod:`pipeline.records`, never click or the matcher.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Sequence
from pathlib import Path

from pipeline import overrides as ov
from pipeline.errors import InputDataError, ParamsError
from pipeline.io import read_csv
from pipeline.places import load
from pipeline.records import Decision, parse_candidates

#: The columns of a reconciled CSV that review reads.
REVIEW_COLUMNS = ("record_id", "katakana", "decision")


@dataclasses.dataclass(frozen=True)
class Shown:
    """One candidate of a queued row, as the reconcile stage ranked it."""

    place_id: str
    name: str
    score: float


@dataclasses.dataclass(frozen=True)
class Queued:
    """A row that waits for a person: its id, name, score and ranked candidates."""

    record_id: str
    katakana: str
    score: str
    candidates: tuple[Shown, ...]


def queue(input_path: Path) -> list[Queued]:
    """The rows of a reconciled CSV whose decision is ``review``, in file order."""
    path = Path(input_path)
    _, rows = read_csv(path, required=REVIEW_COLUMNS)
    out = []
    for row in rows:
        if row["decision"] != Decision.REVIEW:
            continue
        try:
            shown = parse_candidates(row.get("candidates") or "")
        except ValueError as exc:
            raise InputDataError(
                f"{path}: record {row['record_id']}, column candidates: {exc}: "
                "rerun `camps reconcile` to rebuild it"
            ) from None
        candidates = tuple(
            Shown(str(c["id"]), str(c["name"]), float(c["score"]))  # type: ignore[arg-type]
            for c in shown
        )
        out.append(Queued(row["record_id"], row["katakana"], row.get("score", ""), candidates))
    return out


def parse_accept(text: str) -> tuple[str, str]:
    """Split ``RECORD_ID=PLACE_ID`` (the value of ``--accept``).

    >>> parse_accept(" r-1=gn:2017487")
    ('r-1', 'gn:2017487')
    """
    record_id, sep, place_id = text.partition("=")
    if not sep or not record_id.strip() or not place_id.strip():
        raise ParamsError(
            f"--accept {text!r}: write RECORD_ID=PLACE_ID, e.g. r-1a2b3c4d5e=gn:2017487"
        )
    return record_id.strip(), place_id.strip()


def record(
    input_path: Path,
    gazetteer_dir: Path,
    overrides_path: Path,
    accepts: Sequence[str],
    rejects: Sequence[str],
    note: str = "",
    source: str = "",
    today: datetime.date | None = None,
) -> list[ov.Override]:
    """Record accepts (``RECORD_ID=PLACE_ID``) and rejects (``RECORD_ID``) into overrides.csv.

    Each decision replaces an earlier one for the same record; the file is
    written atomically with every column it had, so a crash leaves it whole,
    and a file that is already broken is not rewritten. Returns the new rows.
    """
    _, rows = read_csv(Path(input_path), required=REVIEW_COLUMNS)
    places = load(Path(gazetteer_dir)).places
    by_id = {row["record_id"]: row for row in rows}
    created = (today or datetime.date.today()).isoformat()
    wanted = [(*parse_accept(a), "accept") for a in accepts] + [
        (r.strip(), "", "reject") for r in rejects
    ]
    new: list[ov.Override] = []
    for record_id, place_id, decision in wanted:
        if record_id not in by_id:
            raise ParamsError(
                f"{record_id}: no row with this record_id in {input_path}: "
                "pick one from `camps review --list`"
            )
        if place_id and place_id not in places:
            raise ParamsError(
                f"{place_id}: not a place id of {gazetteer_dir}/places.csv: pick one from the "
                "row's candidates or from `camps lookup NAME`"
            )
        cells = {
            "record_id": record_id,
            "katakana": by_id[record_id]["katakana"],
            "place_id": place_id,
            "decision": decision,
            "note": note,
            "source": source,
            "created": created,
        }
        override, problems = ov.parse(cells, Path(overrides_path), places=places)
        if override is None:
            raise ParamsError("\n".join(problems))
        new.append(override)
    existing = ov.read(Path(overrides_path), places)
    ov.write(Path(overrides_path), ov.replace(existing, new), ov.header(Path(overrides_path)))
    return new
