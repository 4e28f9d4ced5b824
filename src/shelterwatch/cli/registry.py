"""`init`, `serve` and `import`: a database, a server and the shelters in it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from shelterwatch import db, logs
from shelterwatch.areas import service as areas
from shelterwatch.cli.common import console, fail, one_line_errors
from shelterwatch.clock import utcnow
from shelterwatch.config import ensure_secret_file, get_settings
from shelterwatch.errors import ImportRejected
from shelterwatch.ingest import mapping as mappings
from shelterwatch.ingest.registries import READERS, reader
from shelterwatch.shelters import importer
from shelterwatch.shelters.importer import ImportSummary

PROGRESS_FROM_BYTES = 2_000_000
SHOW_REJECTIONS = 50


@one_line_errors
def init() -> None:
    """Create or upgrade the database and load the bundled areas."""
    # Alembic and the signing key's crypto are for `init` alone: `import` and `serve` skip them.
    from shelterwatch import migrate
    from shelterwatch.log import signing, tree

    settings = get_settings()
    if ensure_secret_file(settings):
        console.print(f"generated a random secret in {settings.secret_key_file} (mode 0600)")
        get_settings.cache_clear()
    url = settings.database_url
    migrate.upgrade(url)
    key = signing.public(signing.load_or_create(settings.log_key_path))
    with db.transaction(url) as session:
        counts = areas.load_bundled(session, now=utcnow())
        tree.register_key(session, key, utcnow())
    console.print(f"database ready; areas: {counts['created']} created, "
                  f"{counts['updated']} updated, {counts['unchanged']} unchanged; "
                  f"log signing key {key.key_id[:16]}… in {settings.log_key_path}")


@one_line_errors
def serve(host: Annotated[str, typer.Option()] = "127.0.0.1",
          port: Annotated[int, typer.Option()] = 8000,
          workers: Annotated[int, typer.Option(help="API worker processes")] = 1,
          access_log: Annotated[bool, typer.Option(
              help="a log line for every request, not only the notable ones (costs about a "
                   "tenth of the server's CPU)")] = False,
          ) -> None:
    """Serve the API and the pages."""
    import os

    import uvicorn

    # Check-in links name this server unless SHELTERWATCH_PUBLIC_BASE_URL says where the public
    # reaches it (a proxy, a domain); the setting is read when the app is made, after this.
    os.environ.setdefault("SHELTERWATCH_PUBLIC_BASE_URL", f"http://{host}:{port}")
    # A line for every request took 12% of the server's CPU on /v1/nearest (uvicorn's access
    # log); by default only writes, errors and slow requests get one, and /metrics counts the
    # rest. `--access-log` logs every request, through our own line (no query string, no
    # client address): uvicorn's own access log stays off.
    if access_log:
        os.environ["SHELTERWATCH_LOG_REQUESTS"] = "all"
    get_settings.cache_clear()
    # Read and check the settings here, so a typo refuses to start with one line, not a traceback.
    get_settings().check_secrets()
    get_settings().check_secrets_for_host(host)
    # X-Forwarded-For is read by the app, only from SHELTERWATCH_TRUSTED_PROXIES (clientaddr.py).

    # Our own log format for uvicorn's lines too (`shelterwatch.logs`): no config of its own.
    settings = get_settings()
    logs.configure(settings.log_format, logs.level_of(settings.log_level))
    # /v1/stream is handed to the stream server's protocol on the same loop (`stream.handoff`):
    # ten thousand phones opening or dropping at once stalled uvicorn's other requests.
    uvicorn.run("shelterwatch.asgi:app", host=host, port=port, workers=workers,
                log_level=settings.log_level, log_config=None, proxy_headers=False,
                access_log=False, http="shelterwatch.stream.handoff:StreamHandoff")


def _print_summary(summary: ImportSummary) -> None:
    table = Table(title=f"import of source {summary.source!r}")
    for name in ("created", "updated", "unchanged", "rejected"):
        table.add_column(name, justify="right")
    table.add_row(*(str(v) for v in summary.counts().values()))
    console.print(table)
    for rejection in summary.rejected[:SHOW_REJECTIONS]:
        console.print(f"rejected {rejection}", highlight=False)
    if len(summary.rejected) > SHOW_REJECTIONS:
        console.print(f"… and {len(summary.rejected) - SHOW_REJECTIONS} more rejected rows")
    for note in summary.near_duplicates[:SHOW_REJECTIONS]:
        console.print(f"near-duplicate: {note}", highlight=False)
    if len(summary.near_duplicates) > SHOW_REJECTIONS:
        more = len(summary.near_duplicates) - SHOW_REJECTIONS
        console.print(f"… and {more} more near-duplicates")
    if not summary.created and not summary.updated:
        console.print("nothing changed")


@one_line_errors
def import_file(
    path: Annotated[Path, typer.Argument(help="registry file")],
    fmt: Annotated[str, typer.Option("--format", help=" | ".join(READERS))] = "csv",
    mapping: Annotated[Path | None, typer.Option(help="TOML column mapping")] = None,
    source: Annotated[str | None, typer.Option(help="source name (default: from mapping "
                                                    "or file name)")] = None,
    strict: Annotated[bool, typer.Option(help="import nothing if any row is rejected")] = False,
) -> None:
    """Import shelters from CSV, GeoJSON or OpenStreetMap; re-importing changes nothing."""
    if not path.is_file():
        raise fail(f"no such file: {path}")
    read = reader(fmt)
    column_mapping = mappings.load(mapping) if mapping else mappings.DEFAULT
    source_name = source or column_mapping.source or path.name.split(".")[0]
    url = get_settings().database_url
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=console, transient=True,
                  disable=path.stat().st_size < PROGRESS_FROM_BYTES) as progress:
        task = progress.add_task(f"reading {path.name}", total=None)

        def advance(rows: int) -> None:
            progress.update(task, description=f"reading {path.name}: {rows:,} rows")

        try:
            with db.transaction(url) as session:
                summary = importer.import_records(session, read(path, column_mapping),
                                                  source=source_name, now=utcnow(),
                                                  strict=strict, progress=advance)
        except ImportRejected as exc:
            progress.stop()
            if isinstance(exc.summary, ImportSummary):
                _print_summary(exc.summary)
            raise
    _print_summary(summary)
    if summary.rejected and not summary.created and not summary.updated \
            and not summary.unchanged:
        raise fail(f"every row was rejected ({len(summary.rejected)}); nothing was imported")
