"""The tool commands: lookup, review, evaluate, validate, bench, toponyms.

With the terminal formatting of `camps lookup` and `camps review`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from pipeline.artifacts import paused_gc
from pipeline.cli import cli
from pipeline.cli.options import (
    _report,
    echo,
    gazetteer_dir_option,
    gazetteer_options,
    params_option,
    project_default,
    review_overrides,
)
from pipeline.params import load_section

if TYPE_CHECKING:
    from pipeline.lookup import Lookup
    from pipeline.overrides import Override


@cli.command()
@click.argument("names", nargs=-1, required=True)
@click.option("-k", "--top", default=10, show_default=True, help="How many candidates.")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print a reconciliation API result batch (q0, q1, ...), with where each name is.",
)
@click.option(
    "--lang",
    type=click.Choice(["en", "ja"]),
    default="en",
    show_default=True,
    help="Language of the words (certainty, radius, headings).",
)
@gazetteer_options
@params_option
def lookup(
    names: tuple[str, ...],
    top: int,
    as_json: bool,
    lang: str,
    gazetteer_dir: Path,
    overrides_path: Path,
    params_path: Path,
) -> None:
    """Say where each name is: place, Cyrillic, region, country, point, how sure.

    Each name is transliterated with the `transliterate` params, then reconciled
    with the `reconcile` params and placed as the geocode stage would (offline),
    as `camps run` would; the ranked candidates follow.

    \b
    Example:
        camps lookup ライチハ
        camps lookup ライチハ "チタ州カダラ" --top 5 --json
        camps lookup カラガンダ --lang ja
    """
    import json
    import os

    # A lookup does no linear algebra: OpenBLAS's thread pool, started when numpy is
    # first imported, would cost 30 ms of CPU (a user's own setting is kept).
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from pipeline import geocode, overrides, reconcile, transliterate
    from pipeline import lookup as tool

    t_params = load_section(params_path, "transliterate", transliterate.TransliterateParams)
    r_params = load_section(params_path, "reconcile", reconcile.ReconcileParams)
    g_params = load_section(params_path, "geocode", geocode.GeocodeParams)
    # What loads lives until the command ends: no collector pass over it (see paused_gc).
    with paused_gc(freeze=True):
        index = reconcile.load_index(gazetteer_dir)
        found = overrides.read(overrides_path, index.gazetteer.places)
        model = transliterate.default_model()
        geocoder = geocode.OfflinePlaces(index.gazetteer, g_params.doubt())
    results = [
        tool.lookup(name, index, found, model, t_params, r_params, top, geocoder) for name in names
    ]
    if as_json:
        batch = {f"q{n}": r.as_dict(lang) for n, r in enumerate(results)}
        echo(json.dumps(batch, ensure_ascii=False, indent=2))
        return
    for number, result in enumerate(results):
        if number:
            echo("")
        echo("\n".join(tool.describe(result, lang)))
        echo(_lookup_table(result))


#: Column heads of the features in the `camps lookup` table.
_FEATURE_HEADS = {
    "name_exact": "exact",
    "kana_similarity": "kana",
    "latin_similarity": "latin",
    "partial_name": "part",
    "soviet_name": "sov",
    "region": "region",
    "feature_type": "type",
    "population": "pop",
    "curated": "cur",
    "unique": "uniq",
}


def _lookup_table(result: Lookup) -> str:
    """The text table of `camps lookup`: decision, guesses, hinted regions, candidates."""
    outcome, query = result.outcome, result.query
    head = (
        f"{result.name}: decision {outcome.decision}, place {outcome.place_id or '-'} "
        f"{outcome.place_name}, score {outcome.score:.2f}"
    )
    lines = [head, f"  key {query.key}; Cyrillic guesses: {', '.join(query.cyrillic) or '-'}"]
    if query.region_hint:
        found = ", ".join(result.regions) or "no region of regions.csv"
        lines.append(f"  region hint {query.region_hint} -> {found}")
    if not outcome.candidates:
        lines.append("  no candidate: nothing in the gazetteer is near this name")
        return "\n".join(lines)
    lines.append(
        f"  {'#':>2} {'score':>5}  {'place_id':<22} {'name':<24}"
        + "".join(f" {h:>6}" for h in _FEATURE_HEADS.values())
    )
    for rank, cand in enumerate(outcome.candidates, start=1):
        values = {str(f): v for f, v in cand.features}
        lines.append(
            f"  {rank:>2} {cand.score:5.2f}  {cand.place_id:<22} {cand.name[:24]:<24}"
            + "".join(f" {values[f]:6.2f}" for f in _FEATURE_HEADS)
            + f"  {cand.matched}"
        )
    return "\n".join(lines)


@cli.command()
@click.option(
    "--input",
    "input_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=project_default("output/stages/reconciled.csv"),
    show_default="output/stages/reconciled.csv",
    help="Reconciled CSV whose review rows are listed (DIR/stages/reconciled.csv of a run).",
)
@click.option("--list", "list_only", is_flag=True, help="Only list the queue; record nothing.")
@click.option(
    "--accept", "accepts", multiple=True, help="NAME=PLACE_ID (or RECORD_ID=PLACE_ID) to accept."
)
@click.option("--reject", "rejects", multiple=True, help="NAME (or RECORD_ID) to mark as no place.")
@click.option(
    "--accept-above",
    type=click.FloatRange(0, 1),
    default=None,
    help="Accept the best candidate of every queued name whose best score is at least this.",
)
@click.option(
    "--one-record", is_flag=True, help="Decide only the record given, not every row of its name."
)
@click.option(
    "--export",
    "export_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the queue to this .xlsx, one row per name, with a decision column to fill.",
)
@click.option(
    "--import",
    "import_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Record the decisions of a filled --export workbook (all or none).",
)
@click.option("--note", default="", help="Why: stored with the override.")
@click.option("--source", default="", help="Where the evidence is: stored with the override.")
@gazetteer_dir_option
@click.option(
    "--overrides",
    "overrides_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    show_default="DIR/overrides.csv for DIR/stages/reconciled.csv, else gazetteer/overrides.csv",
    help="Where the decisions go.",
)
@params_option
def review(
    input_path: Path,
    list_only: bool,
    accepts: tuple[str, ...],
    rejects: tuple[str, ...],
    accept_above: float | None,
    one_record: bool,
    export_path: Path | None,
    import_path: Path | None,
    note: str,
    source: str,
    gazetteer_dir: Path,
    overrides_path: Path | None,
    params_path: Path,
) -> None:
    """List the review queue by name and record decisions, one name at a time or by sheet.

    A decision is for every row of the name (and region, when the name comes with
    several); --one-record limits it to the record given. A register run with
    `camps run --output-dir DIR` keeps its decisions in DIR/overrides.csv.

    \b
    Examples:
        camps review --list
        camps review --accept スパスク=gn:2017487 --note "station name" --source URL
        camps review --reject ロンドン --note "not a place in the USSR"
        camps review --accept-above 0.8
        camps review --input results/stages/reconciled.csv --export queue.xlsx
        camps review --input results/stages/reconciled.csv --import queue.xlsx
    """
    from pipeline import review as tool

    overrides_path = overrides_path or review_overrides(input_path)
    recording = bool(accepts or rejects or accept_above is not None)
    chosen = [
        n
        for n, v in (
            ("--list", list_only),
            ("--export", export_path),
            ("--import", import_path),
            ("--accept/--reject", recording),
        )
        if v
    ]
    if len(chosen) > 1:
        raise click.UsageError(f"{' and '.join(chosen)}: choose one of them per call")
    if export_path is not None:
        count = tool.export_sheet(input_path, gazetteer_dir, export_path)
        echo(
            f"wrote {count} name(s) to {export_path}: fill the decision column (accept or "
            f"reject; place_id to pick another place), then `camps review --input {input_path} "
            f"--import {export_path}`"
        )
        return
    if import_path is not None:
        new = tool.import_sheet(import_path, input_path, gazetteer_dir, overrides_path)
        echo(_recorded(new, overrides_path))
        return
    if recording:
        new = tool.record(
            input_path,
            gazetteer_dir,
            overrides_path,
            accepts,
            rejects,
            note,
            source,
            one_record=one_record,
            accept_above=accept_above,
        )
        echo(_recorded(new, overrides_path))
        return
    queued = tool.queue(input_path, gazetteer_dir)
    if not queued:
        echo(f"{input_path}: the review queue is empty")
        return
    rows = sum(q.rows for q in queued)
    echo(f"{input_path}: {len(queued)} name(s) to review, {rows} row(s)")
    for item in queued:
        region = f"  region {item.region}" if item.region else ""
        echo(
            f"{item.katakana}  {item.rows} row(s){region}  score {item.score}  "
            f"(first record {item.record_id})"
        )
        echo(f"    why: {item.reason}")
        for cand in item.candidates:
            echo(f"    {cand.text()}")
    echo(
        "record: camps review --accept NAME=PLACE_ID | --reject NAME | --accept-above SCORE | "
        "--export FILE.xlsx"
    )


def _recorded(new: Sequence[Override], overrides_path: Path) -> str:
    accepts = sum(o.accept for o in new)
    names = len({o.target for o in new})
    return (
        f"recorded {accepts} accept(s), {len(new) - accepts} reject(s) for {names} name(s) "
        f"into {overrides_path}; rerun `camps reconcile` (or `camps run`) to apply them"
    )


@cli.command()
@click.option(
    "--gold",
    "gold_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Gold CSV: katakana, expected, lat, lon (empty expected = must not match).",
)
@click.option(
    "--output",
    "output_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the metrics as JSON here (DVC metrics).",
)
@click.option(
    "--dossier",
    "dossier_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="The camp dossier, whose Cyrillic names also count as right transliterations.",
)
@click.option(
    "--plots-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the DVC plot data (reliability, score histogram, distance CDF).",
)
@click.option(
    "--realnames",
    "realnames_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Real register spellings (raw/realnames_dev.csv) to score as well.",
)
@gazetteer_options
@params_option
def evaluate(
    gold_path: Path,
    output_path: Path | None,
    dossier_path: Path | None,
    plots_dir: Path | None,
    realnames_path: Path | None,
    gazetteer_dir: Path,
    overrides_path: Path,
    params_path: Path,
) -> None:
    """Score transliteration and reconciliation against a gold file.

    \b
    Example:
        camps evaluate --gold raw/gold_dev.csv --dossier raw/camps_dossier.csv \\
            --realnames raw/realnames_dev.csv
    """
    from pipeline import evaluate as stage
    from pipeline import reconcile, transliterate

    t_params = load_section(params_path, "transliterate", transliterate.TransliterateParams)
    r_params = load_section(params_path, "reconcile", reconcile.ReconcileParams)
    echo(
        stage.run(
            gold_path,
            gazetteer_dir,
            overrides_path,
            t_params,
            r_params,
            output_path,
            dossier_path,
            plots_dir,
            realnames_path,
        )
    )


@cli.command()
@click.option(
    "--output",
    "output_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    show_default="pipeline/data/opencorpora_toponyms.txt",
    help="Where to write the list (the file the transliteration model reads).",
)
def toponyms(output_path: Path | None) -> None:
    """Rebuild the list of Russian toponyms from the OpenCorpora dictionary.

    The transliteration model learns Russian place-name spelling from GeoNames and
    from this list, which is committed; rebuild it after upgrading
    pymorphy3-dicts-ru (a dev dependency). It takes about half a minute.

    \b
    Example:
        camps toponyms --output pipeline/data/opencorpora_toponyms.txt
    """
    from pipeline import transliterate as stage

    count = stage.write_toponyms(output_path or stage.TOPONYMS_PATH)
    _report("toponyms", {"toponyms": count})


@cli.command()
@click.option(
    "--raw",
    "raw_paths",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    default=lambda: (project_default("raw/camps.csv")(),),
    show_default="raw/camps.csv",
    help="Raw camp files to check (repeatable).",
)
@click.option(
    "--curated",
    "curated_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=project_default("gazetteer/places.csv"),
    show_default="gazetteer/places.csv",
)
@click.option(
    "--maps",
    "maps_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=project_default("gazetteer/maps.csv"),
    show_default="gazetteer/maps.csv",
)
@click.option(
    "--output",
    "output_dirs",
    multiple=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Also check an output folder: whole set, files as sealed, no row lost (repeatable).",
)
@gazetteer_options
def validate(
    raw_paths: tuple[Path, ...],
    curated_path: Path,
    maps_path: Path,
    output_dirs: tuple[Path, ...],
    gazetteer_dir: Path,
    overrides_path: Path,
) -> None:
    """Check raw and gazetteer files; list every problem with file, row, column and fix.

    \b
    Example:
        camps validate --raw raw/camps.csv
    """
    from pipeline import validate as stage

    problems = stage.run(raw_paths, curated_path, maps_path, gazetteer_dir, overrides_path)
    for folder in output_dirs:
        problems += stage.check_output_set(folder)
    for problem in problems:
        echo(problem, err=True)
    if problems:
        raise click.ClickException(f"{len(problems)} problem(s) found")
    echo("validate: no problems found", err=True)


@cli.command()
@click.option(
    "--rows",
    "row_counts",
    multiple=True,
    type=click.IntRange(min=1),
    default=(10_000,),
    show_default=True,
    help="Register sizes to run (repeatable).",
)
@click.option(
    "--only",
    type=click.Choice(["pipeline", "transliterate", "reconcile", "serve", "lookup"]),
    default="pipeline",
    show_default=True,
    help="The whole chain on a synthetic register, one stage's core on N distinct names, "
    "`camps serve` over HTTP (start-up, p95 of 10-query batches, queries/s; --rows ignored), "
    "or `camps lookup` from a fresh process (one name, then 1 + 20; --rows ignored).",
)
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the register and outputs go (default: a temporary folder, removed after).",
)
@click.option(
    "--site",
    "site_dir",
    type=click.Path(file_okay=False, path_type=Path),
    is_flag=False,
    flag_value=Path("output/site"),
    default=None,
    help="Instead: the web map's weight and time to interactive in headless Chromium "
    "(default folder output/site).",
)
@gazetteer_options
@params_option
def bench(
    row_counts: tuple[int, ...],
    only: str,
    workdir: Path | None,
    site_dir: Path | None,
    gazetteer_dir: Path,
    overrides_path: Path,
    params_path: Path,
) -> None:
    """Time the stages on a synthetic register: rows/s, distinct names/s, peak memory.

    \b
    Examples:
        camps bench --rows 10000 --rows 100000
        camps bench --only transliterate --rows 100000
        camps bench --only reconcile --rows 10000
        camps bench --site                 # output/site: MB and seconds to interactive
        camps bench --only serve
        camps bench --only lookup          # PYTHONDONTWRITEBYTECODE=1 for a start without .pyc
    """
    import json
    import shutil
    import tempfile

    from pipeline import bench as stage

    if site_dir is not None:
        from pipeline import browser

        if not (site_dir / "index.html").is_file():
            raise click.UsageError(f"{site_dir}: no index.html: run `camps export` first")
        lacking = browser.missing()
        if lacking:
            raise click.ClickException(f"the site benchmark needs {lacking}: apt-get install it")
        echo(json.dumps(browser.bench_site(site_dir), indent=2))
        return

    if only == "lookup":
        echo(json.dumps(stage.bench_lookup(gazetteer_dir, overrides_path, params_path), indent=2))
        return
    if only == "serve":
        from pipeline.serve import bench as serve_bench

        report = serve_bench.bench(gazetteer_dir, overrides_path, params_path)
        echo(json.dumps(report, indent=2))
        return
    for n in row_counts:
        if only == "transliterate":
            from pipeline import transliterate

            echo(json.dumps(transliterate.bench(n), indent=2))
            continue
        if only == "reconcile":
            from pipeline import reconcile

            echo(json.dumps(reconcile.bench(n), indent=2))
            continue
        folder = workdir / f"rows-{n}" if workdir else Path(tempfile.mkdtemp(prefix="camps-bench-"))
        try:
            report = stage.run(n, folder, gazetteer_dir, overrides_path, params_path)
        finally:
            if workdir is None:
                shutil.rmtree(folder, ignore_errors=True)
        echo(stage.format_report(report))
