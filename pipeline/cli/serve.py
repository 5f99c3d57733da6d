"""The `camps serve` command: the reconciliation service and lookup API over HTTP."""

from __future__ import annotations

from pathlib import Path

import click

from pipeline.cli import cli
from pipeline.cli.options import (
    gazetteer_options,
    params_option,
    project_default,
    review_overrides,
)


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
    help="Published rows whose decided places give the symbol classes (skipped if absent); "
    "with --review, the rows the web map redraws after each decision.",
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
@click.option(
    "--review",
    is_flag=True,
    help="Also take review decisions from the web map (/review/queue, /review/decide), "
    "written to --overrides; binds 127.0.0.1 only.",
)
@click.option(
    "--input",
    "input_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=project_default("output/stages/reconciled.csv"),
    show_default="output/stages/reconciled.csv",
    help="With --review: the reconciled CSV whose queue is reviewed.",
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
    review: bool,
    input_path: Path,
    gazetteer_dir: Path,
    overrides_path: Path,
    params_path: Path,
) -> None:
    """Serve the W3C reconciliation API (OpenRefine) and a JSON lookup, until Ctrl-C.

    Loads the gazetteer and the transliteration model once, then answers with
    the reconcile stage's candidates and decisions. Read-only unless --review
    (the web map's review panel then writes to --overrides); binds to
    127.0.0.1 unless --host says otherwise, and always with --review. In
    OpenRefine: Reconcile > Start reconciling > Add standard service >
    http://127.0.0.1:8000/reconcile

    \b
    Example:
        camps serve --port 8000
        curl 'http://127.0.0.1:8000/lookup?name=ライチハ'
        camps serve --site output/site     # the web map at http://127.0.0.1:8000/site/
        camps serve --review --site output/site --overrides my-decisions.csv
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
    files = None
    if review:
        if host != "127.0.0.1":
            raise click.UsageError(
                f"--review with --host {host}: review writes decisions, so it binds to "
                "127.0.0.1 only: drop --host"
            )
        if not input_path.is_file():
            raise click.UsageError(
                f"--input {input_path}: no reconciled CSV there: run `camps reconcile` first"
            )
        source = click.get_current_context().get_parameter_source("overrides_path")
        if source == click.core.ParameterSource.DEFAULT:  # as `camps review --input` does
            overrides_path = review_overrides(input_path)
        from pipeline.export import ExportParams
        from pipeline.geocode import GeocodeParams
        from pipeline.params import load_section

        title = load_section(params_path, "export", ExportParams).title
        doubt = load_section(params_path, "geocode", GeocodeParams).doubt()
        files = tool.ReviewFiles(input_path, gazetteer_dir, overrides_path, rows_path, title, doubt)
    # with --review, the service answers with the decisions being reviewed
    service = tool.load_service(gazetteer_dir, overrides_path, params_path, rows_path, limits)
    click.echo(f"camps serve: http://{host}:{port}/reconcile (Ctrl-C stops)", err=True)
    if site_dir is not None:
        click.echo(f"camps serve: the web map at http://{host}:{port}/site/", err=True)
    if files is not None:
        click.echo(f"camps serve: review decisions go to {overrides_path}", err=True)
    tool.run(service, host, port, workers, site_dir, files)
