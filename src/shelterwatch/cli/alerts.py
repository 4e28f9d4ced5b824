"""`shelterwatch alerts cap|poll|replay|regions`: feed alerts in from files and providers."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import httpx
import typer

from shelterwatch import db, logs
from shelterwatch.alerts import regions
from shelterwatch.alerts.sources import cap, load, pollable
from shelterwatch.cli.common import console, fail, one_line_errors
from shelterwatch.clock import utcnow
from shelterwatch.config import get_settings
from shelterwatch.worker import feeds

app = typer.Typer(help="Air-raid alerts: CAP import, provider polling, recorded replays.",
                  no_args_is_help=True)


def _read(path_or_url: str) -> bytes:
    if path_or_url.startswith(("http://", "https://")):
        try:
            response = httpx.get(path_or_url, timeout=20, follow_redirects=True)
        except httpx.HTTPError as exc:
            raise fail(f"cannot fetch {path_or_url}: {exc}") from None
        if response.status_code != 200:
            raise fail(f"{path_or_url} answered HTTP {response.status_code}")
        return response.content
    return Path(path_or_url).read_bytes()


@app.command("cap")
@one_line_errors
def import_cap(path_or_url: str) -> None:
    """Import a CAP 1.2 message or an Atom feed of them from a file or URL."""
    settings = get_settings()
    messages = cap.parse_document(_read(path_or_url))
    with db.transaction(settings.database_url) as session:
        outcomes = [cap.apply(session, m, geocode_map=settings.cap_geocodes, actor="cli",
                              now=utcnow())
                    for m in messages]
    for o in outcomes:
        detail = f"alerts {o.alert_ids}" if o.alert_ids else o.reason
        console.print(f"{o.identifier}: {o.action} ({detail})", highlight=False)


@app.command("poll")
@one_line_errors
def poll(
    source: Annotated[str, typer.Argument(help="alerts-in-ua | ukrainealarm")],
    once: Annotated[bool, typer.Option("--once", help="poll one time and exit")] = False,
) -> None:
    """Poll a provider's active alerts (every SHELTERWATCH_POLL_INTERVAL_S seconds)."""
    if source not in pollable():
        raise fail(f"{source!r} cannot be polled; choose one of: {', '.join(pollable())}")
    settings = get_settings()
    logs.configure(settings.log_format, logs.level_of(settings.log_level))
    with db.transaction(settings.database_url) as session:
        regions.load(session, now=utcnow())  # so raion and hromada alerts land on their area
    poller = load(source).make_poller(settings)
    outcome = feeds.poll(poller, settings, once=once)
    if not outcome.ok:
        raise fail(f"{source}: {outcome.reason}")
    console.print(f"{source}: {outcome.started} started, {outcome.ended} ended", highlight=False)


@app.command("replay")
@one_line_errors
def replay_csv(
    csv_path: Annotated[Path, typer.Argument(help="a ukrainian-air-raid-sirens-dataset CSV")],
    speed: Annotated[float, typer.Option(help="times faster than real time; 0 = at once")] = 0.0,
    since: Annotated[datetime | None, typer.Option(help="only alerts on after this (UTC)")] = None,
    until: Annotated[datetime | None, typer.Option(help="only alerts on before this")] = None,
) -> None:
    """Play a recorded alert history into the live alert state."""
    report = feeds.play(get_settings(), csv_path, speed=speed, since=since, until=until)
    console.print(f"{report.rows} alerts: {report.started} started, {report.ended} ended, "
                  f"{report.widened} placed on a parent area, {len(report.skipped)} skipped",
                  highlight=False)
    for reason in report.skipped[:10]:
        console.print(f"  skipped {reason}", highlight=False)


@app.command("regions")
@one_line_errors
def load_regions() -> None:
    """Add the raions and hromadas of the bundled ukrainealarm region tree to the areas."""
    with db.transaction(get_settings().database_url) as session:
        added = regions.load(session, now=utcnow())
    console.print(f"{added} areas added", highlight=False)
