"""The ``camps`` command line: thin click wrappers around each stage's ``run()``.

This is the one boundary where errors become exit codes: 0 ok, 1 bad data or a
failed stage, 2 bad usage (click's own usage errors and a bad params.yaml).
Stage modules are imported inside each command so ``camps --help`` stays fast.
The CLI is the only place that imports click: ``options`` holds the shared
options and the error-to-exit-code group, ``stages`` the stage commands and
``tools`` the helper commands.
"""

from __future__ import annotations

import gc
import logging
import signal

import click

from pipeline.cli.options import CampsGroup, TerminalFormatter


@click.group(cls=CampsGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More diagnostics on stderr (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors on stderr.")
@click.version_option(package_name="pipeline")
def cli(verbose: int, quiet: bool) -> None:
    """Siberian internment camp map: katakana names to styled GIS layers.

    \b
    Example:
        camps run --input raw/camps.csv --output-dir output
    """
    level = logging.ERROR if quiet else (logging.DEBUG if verbose > 1 else logging.INFO)
    if verbose == 1:
        level = logging.INFO
    logging.basicConfig(level=level, force=True)
    for handler in logging.getLogger().handlers:
        handler.setFormatter(TerminalFormatter("%(levelname)s %(name)s: %(message)s"))
    # GDAL's per-layer chatter ("Created 3 records") is noise at the default level.
    for chatty in ("pyogrio", "fiona", "matplotlib", "PIL"):
        logging.getLogger(chatty).setLevel(max(level, logging.WARNING))


def _exit_on_sigterm(signum: int, frame: object) -> None:
    """Turn SIGTERM into SystemExit so atomic writes unwind and delete their temp files."""
    raise SystemExit(128 + signum)


#: Collect young objects every 50,000 allocations, not 700: a stage keeps a register's
#: rows alive (hundreds of thousands of dicts), and at Python's default each young
#: collection and the older ones it sets off walk them again; measured on a 100,000-row
#: export, 77 s against 47 s at these (the same as no collector at all).
GC_THRESHOLDS = (50_000, 50, 100)


def main() -> None:
    """Entry point of the ``camps`` console script."""
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    gc.set_threshold(*GC_THRESHOLDS)
    cli(prog_name="camps")


# The command modules register their commands on ``cli`` when imported.
from pipeline.cli import serve, stages, tools  # noqa: E402

__all__ = ["cli", "main", "serve", "stages", "tools"]
