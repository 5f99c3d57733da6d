"""Shared options of the ``camps`` commands, the error-to-exit-code group, report helpers."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import click

from pipeline import controls
from pipeline.errors import ParamsError, PipelineError

logger = logging.getLogger("pipeline")

F = TypeVar("F", bound=Callable[..., Any])

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def project_default(relative: str) -> Callable[[], Path]:
    """A default path: ``relative`` to the current folder, else to the project checkout.

    So ``camps run --input my.csv --output-dir out`` works from any folder of a
    user's machine, with the repo's params, gazetteer and overrides.
    """

    def default() -> Path:
        here = Path(relative)
        if here.exists() or not (PROJECT_ROOT / relative).exists():
            return here
        return PROJECT_ROOT / relative

    return default


DEFAULT_GAZETTEER = project_default("gazetteer/build")
DEFAULT_OVERRIDES = project_default("gazetteer/overrides.csv")


def echo(message: object = "", err: bool = False) -> None:
    """``click.echo`` with control characters made visible and inert.

    The one way the CLI prints: names, notes and paths are user text and may hold
    terminal escape sequences (:func:`pipeline.controls.for_terminal`).
    """
    click.echo(controls.for_terminal(str(message)), err=err)


class TerminalFormatter(logging.Formatter):
    """Log lines on stderr with the same rule as :func:`echo` (names appear in them)."""

    def format(self, record: logging.LogRecord) -> str:
        return controls.for_terminal(super().format(record))


def workspace_overrides(folder: Path) -> Path:
    """The decisions of a register's output folder: ``FOLDER/overrides.csv``.

    A user's run keeps its decisions beside its results, never in the project's
    tracked ``gazetteer/overrides.csv``; the committed camp map (``dvc.yaml``
    writes ``output/``) keeps that one.
    """
    if Path(folder).resolve() == (PROJECT_ROOT / "output").resolve():
        return DEFAULT_OVERRIDES()
    return Path(folder) / "overrides.csv"


def review_overrides(input_path: Path) -> Path:
    """The overrides file that goes with a reconciled CSV (``camps review --input``).

    ``DIR/stages/reconciled.csv`` of ``camps run --output-dir DIR`` goes with
    :func:`workspace_overrides` of ``DIR``; the committed map's
    ``output/stages/reconciled.csv`` with ``gazetteer/overrides.csv``; any other
    file with ``overrides.csv`` beside it, so a review never writes into the
    project's tracked files unasked.
    """
    path = Path(input_path)
    if path.parent.name == "stages":
        return workspace_overrides(path.parent.parent)
    return path.parent / "overrides.csv"


class CampsGroup(click.Group):
    """A click group that maps pipeline errors to exit codes and clear messages.

    Every message, click's own usage errors included, passes the terminal rule of
    :func:`echo`: they quote user text (a path, a name, a cell).
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ParamsError as exc:
            raise click.UsageError(controls.for_terminal(str(exc))) from None
        except PipelineError as exc:
            raise click.ClickException(controls.for_terminal(str(exc))) from None
        except click.ClickException as exc:
            exc.message = controls.for_terminal(exc.message)  # type: ignore[misc]
            raise
        except KeyboardInterrupt:
            echo("Interrupted: earlier outputs were left as they were.", err=True)
            ctx.exit(130)


def _report(stage: str, report: Mapping[str, Any]) -> None:
    """Log a stage's counts as one line on stderr."""
    summary = ", ".join(f"{key}={value}" for key, value in report.items())
    logger.info("%s: %s", stage, summary)


def params_option(func: F) -> F:
    return click.option(
        "--params",
        "params_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=project_default("params.yaml"),
        show_default="params.yaml",
        help="Parameters file; one section per stage.",
    )(func)


def encoding_option(func: F) -> F:
    return click.option(
        "--encoding",
        default=None,
        help="Encoding of the input CSV when it is not UTF-8 (cp932 for Shift-JIS, euc_jp).",
    )(func)


def gazetteer_options(func: F, workspace: bool = False) -> F:
    func = click.option(
        "--overrides",
        "overrides_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None if workspace else DEFAULT_OVERRIDES,
        show_default=(
            "OUTPUT_DIR/overrides.csv (output/: gazetteer/overrides.csv)"
            if workspace
            else "gazetteer/overrides.csv"
        ),
        help="Manual decisions that always win (created by `camps review`).",
    )(func)
    return gazetteer_dir_option(func)


def gazetteer_dir_option(func: F) -> F:
    """``--gazetteer``: the built gazetteer folder."""
    return click.option(
        "--gazetteer",
        "gazetteer_dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=DEFAULT_GAZETTEER,
        show_default="gazetteer/build",
        help="Built gazetteer folder (the `gazetteer` stage writes it).",
    )(func)


def workspace_options(func: F) -> F:
    """:func:`gazetteer_options` whose ``--overrides`` defaults to the register's folder."""
    return gazetteer_options(func, workspace=True)


def input_option(func: F) -> F:
    return click.option(
        "--input",
        "input_path",
        required=True,
        type=click.Path(dir_okay=False, path_type=Path),
        help="Input file: CSV (UTF-8, UTF-16, ISO-2022-JP read as they are; Shift-JIS "
        "or EUC-JP with --encoding), or for transliterate and run also .xlsx, .ods, .xls.",
    )(func)


def output_option(func: F) -> F:
    return click.option(
        "--output",
        "output_path",
        required=True,
        type=click.Path(dir_okay=False, path_type=Path),
        help="Output CSV; written atomically.",
    )(func)


def register_options(func: F) -> F:
    """``--sheet``, ``--name-column`` and ``--region-column``: what of a register is read."""
    func = click.option(
        "--region-column",
        default=None,
        metavar="COLUMN",
        help="Column of 1945 regions (English or katakana). [default: region, if there is one]",
    )(func)
    func = click.option(
        "--name-column",
        default=None,
        metavar="COLUMN",
        help="Column of katakana place names, e.g. 死亡場所. "
        "[default: katakana, else the one column whose cells hold katakana]",
    )(func)
    return click.option(
        "--sheet",
        default=None,
        metavar="NAME",
        help="Sheet of an .xlsx/.ods/.xls input, by name or number from 1. "
        "[default: the first sheet with cells]",
    )(func)
