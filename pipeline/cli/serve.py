"""The `camps serve` command: the reconciliation service and lookup API over HTTP."""

from __future__ import annotations

from pathlib import Path

import click

from pipeline.cli import cli
from pipeline.cli.options import gazetteer_options, params_option, project_default


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 16),
    help="Processes answering on the port (forked after loading, so they share the model).",
)
@click.option(
    "--rows",
    "rows_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=project_default("output/stages/geocoded.csv"),
    show_default="output/stages/geocoded.csv",
    help="Published rows whose decided places give the symbol classes (skipped if absent).",
)
@click.option(
    "--max-queries",
    default=500,
    show_default=True,
    type=click.IntRange(1, 100_000),
    help="Queries in one batch; more is a 413.",
)
@click.option(
    "--max-body-bytes",
    default=1_000_000,
    show_default=True,
    type=click.IntRange(1_000),
    help="Bytes of a request body; more is a 413.",
)
@click.option(
    "--time-limit",
    default=10.0,
    show_default=True,
    type=click.FloatRange(0.1),
    help="Seconds to answer one request (and to receive its body); more is a 408.",
)
@click.option(
    "--site",
    "site_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Also serve this web map folder (camps export's output/site) under /site/; "
    "its search then asks /lookup for names the map does not hold.",
)
@gazetteer_options
@params_option
def serve(
    host: str,
    port: int,
    workers: int,
    rows_path: Path,
    max_queries: int,
    max_body_bytes: int,
    time_limit: float,
    site_dir: Path | None,
    gazetteer_dir: Path,
    overrides_path: Path,
    params_path: Path,
) -> None:
    """Serve the W3C reconciliation API (OpenRefine) and a JSON lookup, until Ctrl-C.

    Loads the gazetteer and the transliteration model once, then answers with
    the reconcile stage's candidates and decisions. Read-only; binds to
    127.0.0.1 unless --host says otherwise. In OpenRefine: Reconcile > Start
    reconciling > Add standard service > http://127.0.0.1:8000/reconcile

    \b
    Example:
        camps serve --port 8000
        curl 'http://127.0.0.1:8000/lookup?name=ライチハ'
        camps serve --site output/site     # the web map at http://127.0.0.1:8000/site/
    """
    from pipeline import serve as tool

    limits = tool.Limits(
        max_body_bytes=max_body_bytes,
        max_queries=max_queries,
        time_limit_s=time_limit,
        read_timeout_s=time_limit,
    )
    if site_dir is not None and not (site_dir / "index.html").is_file():
        raise click.UsageError(f"--site {site_dir}: no index.html there: run `camps export` first")
    service = tool.load_service(gazetteer_dir, overrides_path, params_path, rows_path, limits)
    click.echo(f"camps serve: http://{host}:{port}/reconcile (Ctrl-C stops)", err=True)
    if site_dir is not None:
        click.echo(f"camps serve: the web map at http://{host}:{port}/site/", err=True)
    tool.run(service, host, port, workers, site_dir)
