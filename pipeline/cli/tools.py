"""The tool commands: lookup, review, evaluate, validate, bench, toponyms.

With the terminal formatting of `camps lookup` and `camps review`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from pipeline.cli import cli
from pipeline.cli.options import _report, gazetteer_options, params_option, project_default
from pipeline.params import load_section

if TYPE_CHECKING:
    from pipeline.lookup import Lookup


@cli.command()
@click.argument("name")
@click.option("-k", "--top", default=10, show_default=True, help="How many candidates.")
@click.option("--json", "as_json", is_flag=True, help="Print the candidates as JSON.")
@gazetteer_options
@params_option
def lookup(
    name: str,
    top: int,
    as_json: bool,
    gazetteer_dir: Path,
    overrides_path: Path,
    params_path: Path,
) -> None:
    """Print the ranked candidates, with their features, for one name.

    The name is transliterated with the `transliterate` params, then reconciled
    with the `reconcile` params, as `camps run` would.

    \b
    Example:
        camps lookup ライチハ
        camps lookup "チタ州カダラ" --top 5 --json
    """
    import json

    from pipeline import lookup as tool
    from pipeline import overrides, reconcile, transliterate

    t_params = load_section(params_path, "transliterate", transliterate.TransliterateParams)
    r_params = load_section(params_path, "reconcile", reconcile.ReconcileParams)
    index = reconcile.load_index(gazetteer_dir)
    found = overrides.read(overrides_path, index.gazetteer.places)
    model = transliterate.default_model()
    result = tool.lookup(name, index, found, model, t_params, r_params, top)
    if as_json:
        click.echo(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(_lookup_table(result))


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
    help="Reconciled CSV whose review rows are listed.",
)
@click.option("--list", "list_only", is_flag=True, help="Only list the queue; record nothing.")
@click.option("--accept", "accepts", multiple=True, help="RECORD_ID=PLACE_ID to accept.")
@click.option("--reject", "rejects", multiple=True, help="RECORD_ID to mark as no place.")
@click.option("--note", default="", help="Why: stored with the override.")
@click.option("--source", default="", help="Where the evidence is: stored with the override.")
@gazetteer_options
@params_option
def review(
    input_path: Path,
    list_only: bool,
    accepts: tuple[str, ...],
    rejects: tuple[str, ...],
    note: str,
    source: str,
    gazetteer_dir: Path,
    overrides_path: Path,
    params_path: Path,
) -> None:
    """List the review queue and record accepts or rejects into overrides.csv.

    \b
    Examples:
        camps review --list
        camps review --accept r-1a2b3c4d5e=gn:2017487 --note "station name" --source URL
        camps review --reject r-1a2b3c4d5e --note "not a place in the USSR"
    """
    from pipeline import review as tool

    if list_only and (accepts or rejects):
        raise click.UsageError(
            "--list only lists: drop --accept/--reject, or drop --list to record"
        )
    if accepts or rejects:
        tool.record(input_path, gazetteer_dir, overrides_path, accepts, rejects, note, source)
        counts = f"{len(accepts)} accept(s), {len(rejects)} reject(s)"
        click.echo(
            f"recorded {counts} into {overrides_path}; rerun `camps reconcile` to apply them"
        )
        return
    queued = tool.queue(input_path)
    if not queued:
        click.echo(f"{input_path}: the review queue is empty")
        return
    click.echo(f"{input_path}: {len(queued)} row(s) to review")
    for item in queued:
        click.echo(f"{item.record_id}  {item.katakana}  score {item.score}")
        for cand in item.candidates:
            click.echo(f"    {cand.place_id:<22} {cand.name:<28} {cand.score:.2f}")
    click.echo("record: camps review --accept RECORD_ID=PLACE_ID | --reject RECORD_ID")


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
    click.echo(
        stage.run(
            gold_path,
            gazetteer_dir,
            overrides_path,
            t_params,
            r_params,
            output_path,
            dossier_path,
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
        click.echo(problem, err=True)
    if problems:
        raise click.ClickException(f"{len(problems)} problem(s) found")
    click.echo("validate: no problems found", err=True)


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
    type=click.Choice(["pipeline", "transliterate", "reconcile"]),
    default="pipeline",
    show_default=True,
    help="The whole chain on a synthetic register, or one stage's core on N distinct names.",
)
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the register and outputs go (default: a temporary folder, removed after).",
)
@gazetteer_options
@params_option
def bench(
    row_counts: tuple[int, ...],
    only: str,
    workdir: Path | None,
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
    """
    import json
    import shutil
    import tempfile

    from pipeline import bench as stage

    for n in row_counts:
        if only == "transliterate":
            from pipeline import transliterate

            click.echo(json.dumps(transliterate.bench(n), indent=2))
            continue
        if only == "reconcile":
            from pipeline import reconcile

            click.echo(json.dumps(reconcile.bench(n), indent=2))
            continue
        folder = workdir / f"rows-{n}" if workdir else Path(tempfile.mkdtemp(prefix="camps-bench-"))
        try:
            report = stage.run(n, folder, gazetteer_dir, overrides_path, params_path)
        finally:
            if workdir is None:
                shutil.rmtree(folder, ignore_errors=True)
        click.echo(stage.format_report(report))
