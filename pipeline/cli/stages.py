"""The stage commands: gazetteer, calibrate, transliterate, reconcile, geocode, export, run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from pipeline.cli import cli
from pipeline.cli.options import (
    DEFAULT_GAZETTEER,
    PROJECT_ROOT,
    _report,
    echo,
    encoding_option,
    gazetteer_dir_option,
    gazetteer_options,
    input_option,
    output_option,
    params_option,
    project_default,
    register_options,
    workspace_options,
    workspace_overrides,
)
from pipeline.params import load_section


@cli.command()
@click.option(
    "--curated",
    "curated_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=project_default("gazetteer/places.csv"),
    show_default="gazetteer/places.csv",
    help="Curated historical gazetteer.",
)
@click.option(
    "--regions",
    "regions_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=project_default("gazetteer/regions.csv"),
    show_default="gazetteer/regions.csv",
    help="Regions of 1945 and their modern GeoNames admin1 codes.",
)
@click.option(
    "--output-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("gazetteer/build"),
    show_default=True,
    help="Where the built gazetteer goes.",
)
@params_option
def gazetteer(curated_path: Path, regions_path: Path, output_dir: Path, params_path: Path) -> None:
    """Build the gazetteer: GeoNames (offline) merged with the curated places.

    \b
    Example:
        camps gazetteer --curated gazetteer/places.csv --output-dir gazetteer/build
    """
    from pipeline import gazetteer as stage

    params = load_section(params_path, "gazetteer", stage.GazetteerParams)
    _report("gazetteer", stage.run(curated_path, regions_path, output_dir, params))


def _dev_set(relative: str, help: str) -> dict[str, Any]:
    """The click settings of a development set's option (an existing file, a default)."""
    return {
        "type": click.Path(exists=True, dir_okay=False, path_type=Path),
        "default": project_default(relative),
        "show_default": relative,
        "help": help,
    }


@cli.command()
@gazetteer_dir_option
@click.option(
    "--gold",
    "gold_path",
    **_dev_set("raw/gold_dev.csv", "Development gold set (katakana, expected place and point)."),
)
@click.option(
    "--realnames",
    "realnames_path",
    **_dev_set("raw/realnames_dev.csv", "Development set of real register spellings."),
)
@click.option(
    "--output",
    "output_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=PROJECT_ROOT / "pipeline" / "data" / "score_model.json",
    show_default="pipeline/data/score_model.json",
    help="The score model file every reconcile reads.",
)
@click.option("--force", is_flag=True, help="Fit even when the model on disk is current.")
@params_option
def calibrate(
    gazetteer_dir: Path,
    gold_path: Path,
    realnames_path: Path,
    output_path: Path,
    force: bool,
    params_path: Path,
) -> None:
    """Fit and calibrate the reconcile score on the training names and the dev sets.

    Never reads the held-out names that `camps evaluate` measures. A model file
    that is current is kept; a stale or corrupt one is fitted again.

    \b
    Example:
        camps calibrate --gazetteer gazetteer/build --output pipeline/data/score_model.json
    """
    from pipeline import calibrate as stage
    from pipeline import reconcile, transliterate

    params = load_section(params_path, "calibrate", stage.CalibrateParams)
    t_params = load_section(params_path, "transliterate", transliterate.TransliterateParams)
    r_params = load_section(params_path, "reconcile", reconcile.ReconcileParams)
    echo(
        stage.run(
            gazetteer_dir,
            gold_path,
            realnames_path,
            output_path,
            params,
            t_params,
            r_params,
            force,
        )
    )


@cli.command()
@input_option
@output_option
@encoding_option
@register_options
@params_option
def transliterate(
    input_path: Path,
    output_path: Path,
    encoding: str | None,
    sheet: str | None,
    name_column: str | None,
    region_column: str | None,
    params_path: Path,
) -> None:
    """Add romaji and ranked Russian (Cyrillic and Latin) forms of each katakana name.

    \b
    Example:
        camps transliterate --input raw/camps.csv --output output/stages/transliterated.csv
        camps transliterate --input 名簿.xlsx --sheet 名簿 --name-column 死亡場所 --output t.csv
    """
    from pipeline import transliterate as stage

    params = load_section(params_path, "transliterate", stage.TransliterateParams)
    # The stage's model (every GeoNames place) is built by run() once the register is
    # read: a file it cannot read fails at once, not after the seconds of the build.
    report = stage.run(
        input_path,
        output_path,
        params,
        encoding,
        sheet=sheet,
        name_column=name_column,
        region_column=region_column,
    )
    _report("transliterate", report)


@cli.command()
@input_option
@output_option
@gazetteer_options
@encoding_option
@params_option
@click.option(
    "--camp-areas",
    "camp_areas_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="A raw file of camp areas with gupvi_camp_no (raw/camps.csv): ties a row's "
    "camp number (第7地区) to its camp area, in the column camp_area_hint.",
)
def reconcile(
    input_path: Path,
    output_path: Path,
    gazetteer_dir: Path,
    overrides_path: Path,
    encoding: str | None,
    params_path: Path,
    camp_areas_path: Path | None,
) -> None:
    """Tie each name to a gazetteer place, with a score and a decision.

    \b
    Example:
        camps reconcile --input output/stages/transliterated.csv \\
            --output output/stages/reconciled.csv --camp-areas raw/camps.csv
    """
    from pipeline import reconcile as stage

    params = load_section(params_path, "reconcile", stage.ReconcileParams)
    report = stage.run(
        input_path,
        output_path,
        gazetteer_dir,
        overrides_path,
        params,
        encoding=encoding,
        camp_areas_path=camp_areas_path,
    )
    _report("reconcile", report)


@cli.command()
@input_option
@output_option
@gazetteer_options
@encoding_option
@params_option
def geocode(
    input_path: Path,
    output_path: Path,
    gazetteer_dir: Path,
    overrides_path: Path,
    encoding: str | None,
    params_path: Path,
) -> None:
    """Give each placed row a WGS84 point, its method, source, certainty and radius.

    \b
    Example:
        camps geocode --input output/stages/reconciled.csv --output output/stages/geocoded.csv
    """
    from pipeline import geocode as stage

    params = load_section(params_path, "geocode", stage.GeocodeParams)
    report = stage.run(
        input_path, output_path, gazetteer_dir, overrides_path, params, encoding=encoding
    )
    _report("geocode", report)


@cli.command()
@input_option
@click.option(
    "--output-dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for camps.gpkg, camps.geojson, by_class/, camps.lpf.json, unresolved.csv.",
)
@click.option(
    "--gazetteer",
    "gazetteer_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_GAZETTEER,
    show_default="gazetteer/build",
    help="Built gazetteer: place types and curated names for the Linked Places file.",
)
@encoding_option
@params_option
def export(
    input_path: Path, output_dir: Path, gazetteer_dir: Path, encoding: str | None, params_path: Path
) -> None:
    """Write the styled GeoPackage, GeoJSON, Linked Places and unresolved list.

    \b
    Example:
        camps export --input output/stages/geocoded.csv --output-dir output
    """
    from pipeline import export as stage

    params = load_section(params_path, "export", stage.ExportParams)
    report = stage.run(
        input_path, output_dir, params, encoding=encoding, gazetteer_dir=gazetteer_dir
    )
    _report("export", report)


@cli.command(name="run")
@input_option
@click.option(
    "--output-dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the layers; the stage CSVs go to its stages/ subfolder.",
)
@workspace_options
@encoding_option
@register_options
@params_option
def run_all(
    input_path: Path,
    output_dir: Path,
    gazetteer_dir: Path,
    overrides_path: Path | None,
    encoding: str | None,
    sheet: str | None,
    name_column: str | None,
    region_column: str | None,
    params_path: Path,
) -> None:
    """Run transliterate, reconcile, geocode and export on any register (CSV or workbook).

    The register's decisions (`camps review`) are OUTPUT_DIR/overrides.csv unless
    --overrides says otherwise, so a user's register never writes into the
    project's tracked files.

    \b
    Example:
        camps run --input my_register.csv --output-dir results
        camps run --input 名簿.xlsx --name-column 死亡場所 --output-dir results
        camps review --input results/stages/reconciled.csv --list
    """
    from pipeline import export, geocode, io, reconcile, transliterate

    if overrides_path is None:
        overrides_path = workspace_overrides(output_dir)

    stages = output_dir / "stages"
    names = ("transliterated.csv", "reconciled.csv", "geocoded.csv")
    t_path, r_path, g_path = (stages / name for name in names)
    t_params = load_section(params_path, "transliterate", transliterate.TransliterateParams)
    r_params = load_section(params_path, "reconcile", reconcile.ReconcileParams)
    g_params = load_section(params_path, "geocode", geocode.GeocodeParams)
    e_params = load_section(params_path, "export", export.ExportParams)
    # One output set: a run killed at any stage leaves the folder without a manifest
    # (incomplete), never new stage files beside old layers passed off as one set.
    with io.output_set(output_dir) as outputs:
        t_report = transliterate.run(
            input_path,
            t_path,
            t_params,
            encoding=encoding,
            sheet=sheet,
            name_column=name_column,
            region_column=region_column,
        )
        _report("transliterate", t_report)
        _report("reconcile", reconcile.run(t_path, r_path, gazetteer_dir, overrides_path, r_params))
        _report("geocode", geocode.run(r_path, g_path, gazetteer_dir, overrides_path, g_params))
        # A user's register is titled as itself; raw/camps.csv is the ministry's map.
        ours = Path(input_path).resolve() == (PROJECT_ROOT / "raw" / "camps.csv").resolve()
        register = "" if ours else Path(input_path).name
        report = export.run(
            g_path, output_dir, e_params, gazetteer_dir=gazetteer_dir, register=register
        )
        _report("export", report)
        outputs.add(t_path, r_path, g_path)
