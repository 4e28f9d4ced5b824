"""`shelterwatch simulate NIGHT`: a city's night against the real server and worker."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from shelterwatch.cli.common import console, err_console, fail, one_line_errors


@one_line_errors
def simulate(
    night: Annotated[str, typer.Argument(help="the night to play, e.g. kyiv-2023-06-01")],
    seed: Annotated[int, typer.Option(help="the same seed plays the same night")] = 1,
    residents: Annotated[int, typer.Option(min=0)] = 2_000,
    shelters: Annotated[int | None, typer.Option(
        min=1, help="play only this many shelters (whole districts first)")] = None,
    patrols: Annotated[int | None, typer.Option(
        min=0, help="patrol units (default one per hundred shelters)")] = None,
    controllers: Annotated[float, typer.Option(
        min=0, max=1, help="share of doors with an electronic lock")] = 0.1,
    no_controllers: Annotated[bool, typer.Option(
        "--no-controllers", help="no door controllers (no MQTT broker needed)")] = False,
    mqtt: Annotated[str, typer.Option(help="the broker the controllers use")] = (
        "mqtt://127.0.0.1:1883"),
    speed: Annotated[float, typer.Option(min=1, max=1000,
                                         help="how many times faster than real time")] = 20.0,
    pg: Annotated[str | None, typer.Option(
        help="PostgreSQL admin URL: the night gets a fresh database there (default SQLite)")
    ] = None,
    arrive_s: Annotated[float | None, typer.Option(
        min=0, help="residents set out over this many seconds (default the warning time)")
    ] = None,
    minutes: Annotated[float | None, typer.Option(
        min=1, help="how long after the alert to follow the night")] = None,
    population: Annotated[Path | None, typer.Option(
        help="people per cell or district, as `shelterwatch coverage --population`")] = None,
    plot: Annotated[Path | None, typer.Option(help="write the outcome as a PNG")] = None,
    keep: Annotated[Path | None, typer.Option(
        help="keep the database and the processes' logs in this folder")] = None,
    clients: Annotated[int | None, typer.Option(
        min=1, help="processes sending the residents' requests (default one per two cores)")
    ] = None,
) -> None:
    """Play a night on the real registry through `serve` and `worker`, and beside it the same
    night without shelterwatch; print the outcome table."""
    from shelterwatch.simulate import outcome, run
    from shelterwatch.simulate.nights import NIGHTS

    if night not in NIGHTS:
        raise fail(f"unknown night {night!r} (one of {', '.join(NIGHTS)})")
    options = run.Options(
        night=NIGHTS[night], seed=seed, residents=residents, shelters=shelters,
        patrols=patrols, controller_share=0 if no_controllers else controllers,
        mqtt_url="" if no_controllers else mqtt, speed=speed, pg_admin_url=pg,
        arrive_s=arrive_s, minutes=minutes, population_file=population, keep=keep,
        clients=clients, progress=lambda line: err_console.print(line, highlight=False))
    try:
        result = run.run(options)
    except RuntimeError as exc:
        raise fail(str(exc)) from None
    plan = result.plan
    console.print(
        f"{plan.name}: alert for area {plan.area_id} from {plan.alert_start:%Y-%m-%d %H:%M:%S} "
        f"UTC, threat {plan.threat} ({plan.warning_s:.0f} s warning), followed "
        f"{plan.night_s:.0f} s at {options.speed:g}× in {result.wall_s:.0f} s; "
        f"{result.shelters} shelters in {', '.join(result.districts)}; "
        f"{result.patrols} patrols; people: {result.population_label}; seed {seed}; "
        f"load average {result.load_average[0]:.1f} → {result.load_average[1]:.1f} "
        f"({os.cpu_count()} cores)", highlight=False, soft_wrap=True)
    console.print(outcome.table(f"{plan.name}, seed {seed}", result.night, result.baseline),
                  highlight=False, soft_wrap=True, markup=False)
    if plot is not None:
        from shelterwatch.simulate import plot as plots

        plots.write(result, plot)
        console.print(f"plot written to {plot}")
