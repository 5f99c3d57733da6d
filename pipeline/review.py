"""``camps review``: the review queue of a reconciled CSV, by name, and decisions for it.

A register repeats its names (a death register names the same camp hundreds of
times), so the queue is one entry per name (and region, when the same name comes
with several): its row count, its region, its candidates with their points and
the reason it waits. A decision is for the name (:mod:`pipeline.overrides`,
scope ``name``, or ``region`` when the name comes with several regions), for one
record only when asked. Decisions go into the overrides file under its lock
and win on the next ``camps reconcile``; the queue and the decisions are read
from the reconciled CSV and the built gazetteer alone, the matcher is not run.

At register scale the queue goes out as a workbook (:func:`export_sheet`): the
person fills the ``decision`` column (and ``place_id`` to pick another
candidate), and :func:`import_sheet` checks every row (unknown place ids,
contradictory decisions, a name the queue does not hold) before one decision is
written: a sheet with a problem writes nothing.

This module returns data; :mod:`pipeline.cli` prints it. It may import
:mod:`pipeline.overrides`, :mod:`pipeline.places` (the built places),
:mod:`pipeline.io`, :mod:`pipeline.records` and the text library, never click or
the matcher.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping, Sequence
from pathlib import Path

from pipeline import overrides as ov
from pipeline.errors import InputDataError, ParamsError
from pipeline.io import Row, read_csv, read_xlsx_sheet, write_xlsx
from pipeline.places import Place, load
from pipeline.records import Decision, parse_candidates

#: The columns of a reconciled CSV that review reads.
REVIEW_COLUMNS = ("record_id", "katakana", "decision")
#: The sheet of the exported queue, and its columns (the person fills the last four).
SHEET = "review"
SHEET_COLUMNS = (
    "katakana",
    "region",
    "scope",
    "rows",
    "reason",
    "best_place_id",
    "best_name",
    "best_score",
    "candidates",
    "decision",
    "place_id",
    "note",
    "source",
)
#: A candidate within this score of the best is a rival worth naming as the reason.
RIVAL_MARGIN = 0.1


@dataclasses.dataclass(frozen=True)
class Shown:
    """One candidate of a queued name, as the reconcile stage ranked it, with its point."""

    place_id: str
    name: str
    score: float
    lat: float | None = None
    lon: float | None = None
    region: str = ""
    country: str = ""

    def text(self) -> str:
        """One line: id, name, score, point and region."""
        point = f"{self.lat:.4f},{self.lon:.4f}" if self.lat is not None else "no point"
        where = ", ".join(w for w in (self.region, self.country) if w)
        return (
            f"{self.place_id} {self.name} {self.score:.2f} ({point}{'; ' + where if where else ''})"
        )


@dataclasses.dataclass(frozen=True)
class Queued:
    """One name waiting for a person: its rows, region, candidates and why it waits."""

    katakana: str
    key: str
    region: str
    scope: str
    record_ids: tuple[str, ...]
    score: str
    reason: str
    candidates: tuple[Shown, ...]

    @property
    def record_id(self) -> str:
        """The first record of the name (for ``--accept RECORD_ID=PLACE_ID``)."""
        return self.record_ids[0]

    @property
    def rows(self) -> int:
        return len(self.record_ids)


def _region_of(row: Mapping[str, str]) -> str:
    """A row's region as the person reads it: the katakana prefix, else the column."""
    return " | ".join(
        dict.fromkeys(
            h.strip()
            for h in (*row.get("region_hint", "").split("|"), row.get("region", ""))
            if h.strip()
        )
    )


def _shown(row: Row, path: Path, places: Mapping[str, Place]) -> tuple[Shown, ...]:
    try:
        found = parse_candidates(row.get("candidates") or "")
    except ValueError as exc:
        raise InputDataError(
            f"{path}: record {row['record_id']}, column candidates: {exc}: "
            "rerun `camps reconcile` to rebuild it"
        ) from None
    out = []
    for c in found:
        place = places.get(str(c["id"]))
        out.append(
            Shown(
                str(c["id"]),
                str(c["name"]),
                float(c["score"]),  # type: ignore[arg-type]
                place.lat if place else None,
                place.lon if place else None,
                (place.admin_1945 or place.admin1) if place else "",
                place.country if place else "",
            )
        )
    return tuple(out)


def reason_of(candidates: Sequence[Shown]) -> str:
    """Why a name waits for a person, from its ranked candidates.

    >>> reason_of([Shown("a", "Spassk", 0.8), Shown("b", "Spassk", 0.78)])
    'rival b Spassk at 0.78 close behind a Spassk at 0.80'
    >>> reason_of([Shown("a", "Chita", 0.6)])
    'best a Chita at 0.60 is not sure enough to take unseen'
    """
    if not candidates:
        return "no candidate"
    best = candidates[0]
    for other in candidates[1:]:
        if other.score >= best.score - RIVAL_MARGIN:
            return (
                f"rival {other.place_id} {other.name} at {other.score:.2f} close behind "
                f"{best.place_id} {best.name} at {best.score:.2f}"
            )
    return f"best {best.place_id} {best.name} at {best.score:.2f} is not sure enough to take unseen"


def queue(
    input_path: Path,
    gazetteer_dir: Path | None = None,
    places: Mapping[str, Place] | None = None,
) -> list[Queued]:
    """The names of a reconciled CSV whose decision is ``review``, one entry per name.

    Rows are grouped by :func:`pipeline.overrides.key_of` their katakana and their
    region; a name that comes with several regions is decided per region (scope
    ``region``), else for every row of the name (scope ``name``). In file order
    of each name's first row. ``gazetteer_dir`` (or its loaded ``places``) adds
    each candidate's point.
    """
    path = Path(input_path)
    _, rows = read_csv(path, required=REVIEW_COLUMNS)
    if places is None:
        places = load(Path(gazetteer_dir)).places if gazetteer_dir else {}
    groups: dict[tuple[str, str], list[Row]] = {}
    regions_of_key: dict[str, set[str]] = {}
    for row in rows:
        if row["decision"] != Decision.REVIEW:
            continue
        key, region = ov.key_of(row["katakana"]), _region_of(row)
        groups.setdefault((key, region), []).append(row)
        regions_of_key.setdefault(key, set()).add(region)
    out = []
    for (key, region), members in groups.items():
        first = members[0]
        candidates = _shown(first, path, places)
        several = len(regions_of_key[key]) > 1 and bool(region)
        out.append(
            Queued(
                katakana=first["katakana"],
                key=key,
                region=region,
                scope="region" if several else "name",
                record_ids=tuple(r["record_id"] for r in members),
                score=first.get("score", ""),
                reason=reason_of(candidates),
                candidates=candidates,
            )
        )
    return out


def parse_accept(text: str) -> tuple[str, str]:
    """Split ``NAME_OR_RECORD_ID=PLACE_ID`` (the value of ``--accept``).

    >>> parse_accept(" r-1=gn:2017487")
    ('r-1', 'gn:2017487')
    """
    record_id, sep, place_id = text.partition("=")
    if not sep or not record_id.strip() or not place_id.strip():
        raise ParamsError(
            f"--accept {text!r}: write NAME=PLACE_ID or RECORD_ID=PLACE_ID, "
            "e.g. ライチハ=gn:2017487"
        )
    return record_id.strip(), place_id.strip()


@dataclasses.dataclass(frozen=True)
class _Wanted:
    """One decision asked for: which rows, accept or reject, which place."""

    row: Row
    scope: str
    region: str
    place_id: str
    decision: str
    note: str
    source: str
    where: str
    lat: str = ""
    lon: str = ""
    reviewer: str = ""


def _target(
    name: str, rows: Sequence[Row], queued: Sequence[Queued], one_record: bool, input_path: Path
) -> tuple[Row, str, str]:
    """The row, scope and region that ``name`` (a record id or a katakana name) means."""
    by_id = {row["record_id"]: row for row in rows}
    if name in by_id:
        row = by_id[name]
        if one_record:
            return row, "record", ""
        key, region = ov.key_of(row["katakana"]), _region_of(row)
        scope = next((q.scope for q in queued if (q.key, q.region) == (key, region)), "name")
        return row, scope, region if scope == "region" else ""
    if one_record:
        raise ParamsError(f"{name}: --one-record needs a record_id from {input_path}")
    key = ov.key_of(name)
    hits = [q for q in queued if q.key == key]
    if len(hits) > 1 and len({q.region for q in hits}) > 1:
        raise ParamsError(
            f"{name}: the queue holds this name in several regions "
            f"({', '.join(q.region or '-' for q in hits)}): give a record_id of the one you mean"
        )
    found = next((r for r in rows if key and ov.key_of(r["katakana"]) == key), None)
    if found is None:
        raise ParamsError(
            f"{name}: no row of {input_path} has this name or record_id: "
            "pick one from `camps review --list`"
        )
    return (
        found,
        hits[0].scope if hits else "name",
        hits[0].region if hits and hits[0].scope == "region" else "",
    )


def _override(
    wanted: _Wanted, path: Path, places: Mapping[str, Place], created: str
) -> ov.Override:
    row = wanted.row
    cells = {
        "record_id": row["record_id"] if wanted.scope == "record" else "",
        "katakana": row["katakana"],
        "scope": wanted.scope,
        "region": wanted.region,
        "place_id": wanted.place_id,
        "lat": wanted.lat,
        "lon": wanted.lon,
        "decision": wanted.decision,
        "note": wanted.note,
        "source": wanted.source,
        "created": created,
    }
    if wanted.reviewer:
        cells["reviewer"] = wanted.reviewer
    override, problems = ov.parse(cells, path, places=places)
    if override is None:
        raise ParamsError(f"{wanted.where}: " + "\n".join(problems))
    return override


def _save(overrides_path: Path, new: Sequence[ov.Override], places: Mapping[str, Place]) -> None:
    """Add ``new`` to the overrides file under its lock (read, replace, write, rename)."""
    path = Path(overrides_path)
    with ov.locked(path):
        existing = ov.read(path, places)
        ov.write(path, ov.replace(existing, new), ov.header(path))


def record(
    input_path: Path,
    gazetteer_dir: Path,
    overrides_path: Path,
    accepts: Sequence[str],
    rejects: Sequence[str],
    note: str = "",
    source: str = "",
    today: datetime.date | None = None,
    one_record: bool = False,
    accept_above: float | None = None,
) -> list[ov.Override]:
    """Record accepts (``NAME=PLACE_ID``), rejects (``NAME``) and bulk accepts.

    ``NAME`` is a katakana name or a record id; either way the decision is for
    every row of that name (scope ``name``, or ``region`` for a name the queue
    holds in several regions) unless ``one_record``. ``accept_above`` accepts the
    best candidate of every queued name whose best score is at least that.
    Each decision replaces an earlier one for the same name (or record); the
    file is written atomically under its lock with every column it had, and a
    file that is already broken is not rewritten. Returns the new rows.
    """
    _, rows = read_csv(Path(input_path), required=REVIEW_COLUMNS)
    places = load(Path(gazetteer_dir)).places
    created = (today or datetime.date.today()).isoformat()
    queued = queue(input_path)
    wanted: list[_Wanted] = []
    for text in accepts:
        name, place_id = parse_accept(text)
        if place_id not in places:
            raise ParamsError(
                f"{place_id}: not a place id of {gazetteer_dir}/places.csv: pick one from the "
                "name's candidates or from `camps lookup NAME`"
            )
        row, scope, region = _target(name, rows, queued, one_record, Path(input_path))
        wanted.append(
            _Wanted(row, scope, region, place_id, "accept", note, source, f"--accept {text}")
        )
    for text in rejects:
        row, scope, region = _target(text.strip(), rows, queued, one_record, Path(input_path))
        wanted.append(_Wanted(row, scope, region, "", "reject", note, source, f"--reject {text}"))
    if accept_above is not None:
        by_id = {row["record_id"]: row for row in rows}
        for item in queued:
            if item.candidates and item.candidates[0].score >= accept_above:
                wanted.append(
                    _Wanted(
                        by_id[item.record_id],
                        item.scope,
                        item.region if item.scope == "region" else "",
                        item.candidates[0].place_id,
                        "accept",
                        note or f"best candidate, score {item.candidates[0].score:.2f}",
                        source,
                        f"--accept-above {accept_above:g}",
                    )
                )
    new = [_override(w, Path(overrides_path), places, created) for w in wanted]
    clash = ov.contradictions(new)
    if clash:
        first, second = clash[0]
        said = [f"accept {o.place_id}" if o.accept else "reject" for o in (first, second)]
        raise ParamsError(
            f"{first.label}: decided twice in one call ({said[0]} and {said[1]}): "
            "give one decision per name"
        )
    if new:
        _save(Path(overrides_path), new, places)
    return new


def export_sheet(input_path: Path, gazetteer_dir: Path, target: Path) -> int:
    """Write the queue as a workbook, one row per name, for a person to fill; return its rows.

    The person writes ``accept`` or ``reject`` in ``decision``; an accept takes
    ``best_place_id`` unless ``place_id`` names another place (any id of the
    gazetteer, e.g. from ``camps lookup``). An empty decision is left for later.
    """
    queued = queue(input_path, gazetteer_dir)
    rows = [
        [
            q.katakana,
            q.region,
            q.scope,
            q.rows,
            q.reason,
            q.candidates[0].place_id if q.candidates else "",
            q.candidates[0].name if q.candidates else "",
            round(q.candidates[0].score, 4) if q.candidates else None,
            "\n".join(c.text() for c in q.candidates),
            "",
            "",
            "",
            "",
        ]
        for q in queued
    ]
    widths = {"reason": 50, "candidates": 70, "katakana": 24, "best_name": 24}
    write_xlsx(Path(target), [(SHEET, SHEET_COLUMNS, rows)], widths)
    return len(rows)


def import_sheet(
    sheet_path: Path,
    input_path: Path,
    gazetteer_dir: Path,
    overrides_path: Path,
    today: datetime.date | None = None,
) -> list[ov.Override]:
    """Check a filled review sheet and record its decisions; all or none.

    Every row is checked first: ``decision`` is accept, reject or empty; an
    accept's place (``place_id``, else ``best_place_id``) is a place of the
    gazetteer; the name is one of the reconciled file; no two rows decide one
    name differently. Any problem raises with the sheet, row and column of each,
    and nothing is written.
    """
    path = Path(sheet_path)
    _, filled = read_xlsx_sheet(path, SHEET, ("katakana", "decision"))
    _, rows = read_csv(Path(input_path), required=REVIEW_COLUMNS)
    places = load(Path(gazetteer_dir)).places
    created = (today or datetime.date.today()).isoformat()
    by_key: dict[str, Row] = {}
    for row in rows:
        by_key.setdefault(ov.key_of(row["katakana"]), row)
    problems: list[str] = []
    new: list[ov.Override] = []
    for cells in filled:
        where = f"{path}, sheet {SHEET}, row {cells['_row']}"
        decision = cells.get("decision", "").lower()
        if not decision:
            continue
        if decision not in ("accept", "reject"):
            problems.append(
                f"{where}, column decision: '{cells['decision']}' must be accept, reject or empty"
            )
            continue
        named = by_key.get(ov.key_of(cells.get("katakana", "")))
        if named is None:
            problems.append(
                f"{where}, column katakana: '{cells.get('katakana', '')}' is no name of "
                f"{input_path}: export the queue of this file again"
            )
            continue
        place_id = cells.get("place_id", "") or (
            cells.get("best_place_id", "") if decision == "accept" else ""
        )
        if place_id and place_id not in places:
            column = "place_id" if cells.get("place_id") else "best_place_id"
            problems.append(
                f"{where}, column {column}: '{place_id}' is not a place of the gazetteer: "
                "use an id from the candidates or from `camps lookup NAME`"
            )
            continue
        if decision == "accept" and not place_id:
            problems.append(f"{where}, column place_id: an accept needs a place id (none proposed)")
            continue
        scope = cells.get("scope", "") or "name"
        wanted = _Wanted(
            named,
            scope if scope in ("name", "region") else "name",
            cells.get("region", "") if scope == "region" else "",
            place_id,
            decision,
            cells.get("note", ""),
            cells.get("source", ""),
            where,
        )
        try:
            override = _override(wanted, Path(overrides_path), places, created)
        except ParamsError as exc:
            problems.append(str(exc))
            continue
        new.append(dataclasses.replace(override, row=int(cells["_row"])))
    for first, second in ov.contradictions(new):
        problems.append(
            f"{path}, sheet {SHEET}, row {second.row}, column decision: contradicts row "
            f"{first.row} for {second.label}: keep one decision per name"
        )
    if problems:
        raise InputDataError(
            f"{len(problems)} problem(s) in {path}; nothing was recorded:\n" + "\n".join(problems)
        )
    if new:
        _save(Path(overrides_path), new, places)
    return new


def pending(
    input_path: Path,
    gazetteer_dir: Path,
    overrides_path: Path,
    places: Mapping[str, Place] | None = None,
) -> list[Queued]:
    """:func:`queue` less the names the overrides file decides already (a served review).

    The reconciled CSV changes only when ``camps reconcile`` runs again, so the
    queue a person works through is the one of that file minus what is decided.
    ``places`` is the loaded gazetteer's, to save loading it again.
    """
    _, rows = read_csv(Path(input_path), required=REVIEW_COLUMNS)
    if places is None:
        places = load(Path(gazetteer_dir)).places
    found = ov.finder(ov.read(Path(overrides_path), places))
    by_id = {row["record_id"]: row for row in rows}
    return [
        q for q in queue(input_path, places=places) if found.find_row(by_id[q.record_id]) is None
    ]


#: What :func:`decide` does: take one candidate, drop them all, or take a point.
ACTIONS = ("accept", "reject", "place")


def decide(
    input_path: Path,
    gazetteer_dir: Path,
    overrides_path: Path,
    name: str,
    action: str,
    place_id: str = "",
    point: tuple[float, float] | None = None,
    region: str = "",
    note: str = "",
    reviewer: str = "",
    when: str = "",
    places: Mapping[str, Place] | None = None,
) -> ov.Override:
    """Record one decision for a queued name (or record id), as ``camps serve --review`` asks.

    ``accept`` takes ``place_id``, ``reject`` drops every candidate and ``place``
    takes ``point`` (lat, lon) as the name's own place. ``region`` picks the
    queue's entry when the name comes with several. ``reviewer`` (who), ``when``
    (an ISO time, default today) and ``note`` (why) are written with it; the
    file is written as :func:`record` writes it, under its lock. ``places`` is
    the loaded gazetteer's, to save loading it again.
    """
    if action not in ACTIONS:
        raise ParamsError(f"action '{action[:20]}' must be one of {', '.join(ACTIONS)}")
    _, rows = read_csv(Path(input_path), required=REVIEW_COLUMNS)
    if places is None:
        places = load(Path(gazetteer_dir)).places
    queued = queue(input_path)
    key = ov.key_of(name)
    hits = [q for q in queued if (name in q.record_ids or q.key == key)]
    if region:
        hits = [q for q in hits if q.region == region] or hits[:0]
    if len({q.region for q in hits}) > 1:
        raise ParamsError(
            f"{name}: the queue holds this name in several regions "
            f"({', '.join(q.region or '-' for q in hits)}): say which region"
        )
    if not hits:
        raise ParamsError(f"{name}: not in the review queue of {input_path}")
    item = hits[0]
    if action == "accept" and place_id not in places:
        raise ParamsError(
            f"{place_id[:60]}: not a place id of {gazetteer_dir}/places.csv: "
            "pick one of the name's candidates"
        )
    lat, lon = ("", "") if point is None else (f"{point[0]:.6f}", f"{point[1]:.6f}")
    if action == "place" and point is None:
        raise ParamsError("a placed point needs lat and lon")
    by_id = {row["record_id"]: row for row in rows}
    wanted = _Wanted(
        by_id[item.record_id],
        item.scope,
        item.region if item.scope == "region" else "",
        place_id if action == "accept" else "",
        "reject" if action == "reject" else "accept",
        note,
        # No source: a click on the map or a choice among candidates cites nothing, so a
        # placed point is less-certain (pipeline.geocode.override_point); the reviewer's
        # note says why, and the `reviewer` and `created` columns say who and when.
        "",
        f"decision for {name}",
        lat if action == "place" else "",
        lon if action == "place" else "",
        reviewer,
    )
    override = _override(
        wanted, Path(overrides_path), places, when or datetime.date.today().isoformat()
    )
    _save(Path(overrides_path), [override], places)
    return override
