"""`shelterwatch token create|revoke`."""

from __future__ import annotations

from typing import Annotated

import typer

from shelterwatch import db
from shelterwatch.auth import service as auth
from shelterwatch.cli.common import console, one_line_errors
from shelterwatch.clock import utcnow
from shelterwatch.config import get_settings
from shelterwatch.shelters import service as shelters

app = typer.Typer(help="Bearer tokens for keyholders, patrols, operators and auditors.",
                  no_args_is_help=True)


@app.command("create")
@one_line_errors
def create(
    role: Annotated[str, typer.Option(help="keyholder | patrol | operator | auditor | door")],
    name: Annotated[str, typer.Option(help="who holds it, e.g. 'Patrol unit 7'")],
    shelter: Annotated[list[int] | None, typer.Option(
        help="a shelter the token acts on (keyholder, door: required; repeat for more)")] = None,
) -> None:
    """Create a token; the plaintext is printed alone on the last line, once."""
    with db.transaction(get_settings().database_url) as session:
        shelters.require_existing(session, shelter or [], "--shelter")
        token, plaintext = auth.create(session, role=role, name=name, now=utcnow(),
                                       shelter_ids=shelter or [])
    console.print(f"token {token.id} for {token.name!r} with role {token.role}; "
                  "store it now, it is not shown again:", highlight=False)
    print(plaintext)


@app.command("revoke")
@one_line_errors
def revoke(token_id: int) -> None:
    """Revoke a token at once."""
    with db.transaction(get_settings().database_url) as session:
        auth.revoke(session, token_id=token_id, now=utcnow(), actor="cli")
    console.print(f"token {token_id} revoked")
