"""`shelterwatch worker`, `keyholders import`, `patrols create`, `doors register`, `demo`."""

from __future__ import annotations

import importlib
import logging
from pathlib import Path
from typing import Annotated

import typer

from shelterwatch import db, logs
from shelterwatch.cli.common import fail, one_line_errors
from shelterwatch.clock import utcnow
from shelterwatch.config import get_settings
from shelterwatch.keyholders import importer as keyholder_import

keyholders_app = typer.Typer(help="Owners and keyholders of shelters.", no_args_is_help=True)
patrols_app = typer.Typer(help="Patrol units.", no_args_is_help=True)
doors_app = typer.Typer(help="Door controllers.", no_args_is_help=True)

# Demo scenarios: name → dotted path of a function(json_output, **options) -> None.
SCENARIOS = {"kyiv-2023-06-01": "shelterwatch.demo.kyiv_2023_06_01:main"}


@one_line_errors
def worker(
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Run the escalation worker: timers, notifications, door controllers (until stopped)."""
    from shelterwatch.worker import runner

    settings = get_settings()
    logs.configure(settings.log_format,
                   logging.INFO if verbose else max(logs.level_of(settings.log_level),
                                                    logging.WARNING))
    settings.check_secrets()
    runner.run(settings)


@keyholders_app.command("import")
@one_line_errors
def import_keyholders(path: Path) -> None:
    """Import `role,name,shelter_id,email,sms,telegram,webhook` rows (role keyholder|owner)."""
    text = path.read_text(encoding="utf-8-sig")
    with db.transaction(get_settings().database_url) as session:
        counts = keyholder_import.import_csv(session, text=text, now=utcnow(), actor="cli")
    typer.echo(f"imported {counts['keyholder']} keyholders and {counts['owner']} owners")


@patrols_app.command("create")
@one_line_errors
def create_patrol(
    name: Annotated[str, typer.Option(help="call sign, e.g. 'Desnianskyi 12'")],
    lat: Annotated[float | None, typer.Option()] = None,
    lon: Annotated[float | None, typer.Option()] = None,
) -> None:
    """Create a patrol unit and its token; the token is printed alone on the last line."""
    # Imported here: patrols bring numpy and the dispatch rules, which `keyholders import`
    # (in this module too) would otherwise load for nothing at every start.
    from shelterwatch.auth import service as auth
    from shelterwatch.patrols import service as patrols
    from shelterwatch.vocabulary import Role

    now = utcnow()
    with db.transaction(get_settings().database_url) as session:
        token, plaintext = auth.create(session, role=Role.PATROL.value, name=name, now=now)
        unit = patrols.create_unit(session, name=name, token_id=token.id, lat=lat, lon=lon,
                                   now=now, actor="cli")
    from shelterwatch.cli.common import console  # rich: not for `keyholders import`

    console.print(f"patrol unit {unit.id} {name!r}; its token, shown once:", highlight=False)
    print(plaintext)


@doors_app.command("register")
@one_line_errors
def register_door(
    shelter: Annotated[int, typer.Option(help="shelter id")],
    device: Annotated[str, typer.Option(help="controller's device id")],
) -> None:
    """Record that a shelter's door has a controller listening on MQTT."""
    from shelterwatch.doors import service as doors

    with db.transaction(get_settings().database_url) as session:
        doors.register(session, shelter_id=shelter, device_id=device, now=utcnow(), actor="cli")
    from shelterwatch.cli.common import console

    console.print(f"door controller {device} registered for shelter {shelter}")


def demo(
    scenario: Annotated[str, typer.Argument(help=", ".join(SCENARIOS))],
    json_output: Annotated[bool, typer.Option("--json", help="one JSON object")] = False,
    door_controller: Annotated[bool, typer.Option(
        "--door-controller", help="the clinic has a door controller")] = False,
) -> None:
    """Replay a real night in accelerated time and print how fast the door opened."""
    if scenario not in SCENARIOS:
        raise fail(f"unknown scenario {scenario!r} (one of {', '.join(SCENARIOS)})")
    module, _, func = SCENARIOS[scenario].partition(":")
    try:
        getattr(importlib.import_module(module), func)(json_output=json_output,
                                                       door_controller=door_controller)
    except RuntimeError as exc:
        raise fail(str(exc)) from None
