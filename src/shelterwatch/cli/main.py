"""`shelterwatch`: init, serve, import, tokens, log verification (and the domains' sub-commands)."""

from __future__ import annotations

import typer

from shelterwatch.cli import (
    alerts,
    audits,
    basemap,
    escalation,
    pack,
    registry,
    stats,
    telegram,
    tokens,
    verify,
)
from shelterwatch.cli.coverage import coverage
from shelterwatch.cli.rebuild import rebuild
from shelterwatch.cli.simulate import simulate

app = typer.Typer(name="shelterwatch", no_args_is_help=True, add_completion=False,
                  help="Keeps a city's bomb shelters open and ready when the siren sounds.")

app.command("init")(registry.init)
app.command("serve")(registry.serve)
app.command("import")(registry.import_file)
app.add_typer(tokens.app, name="token")
app.add_typer(verify.app, name="log")
app.add_typer(alerts.app, name="alerts")
app.add_typer(pack.app, name="pack")
app.add_typer(basemap.app, name="basemap")
app.command("worker")(escalation.worker)
app.command("demo")(escalation.demo)
app.command("simulate")(simulate)
app.add_typer(escalation.keyholders_app, name="keyholders")
app.add_typer(escalation.patrols_app, name="patrols")
app.add_typer(escalation.doors_app, name="doors")
app.add_typer(telegram.app, name="telegram")
app.command("rebuild")(rebuild)
app.add_typer(stats.app, name="stats")
app.command("coverage")(coverage)
app.add_typer(audits.app, name="audits")


if __name__ == "__main__":
    app()
