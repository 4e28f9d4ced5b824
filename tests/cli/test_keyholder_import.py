"""`shelterwatch keyholders import`: a national list in one go, every person on the record."""

from __future__ import annotations

from pathlib import Path

import orjson
from sqlalchemy import select
from typer.testing import CliRunner

from shelterwatch import db
from shelterwatch.cli.main import app as cli
from shelterwatch.clock import utcnow
from shelterwatch.config import Settings
from shelterwatch.keyholders import service as keyholders
from shelterwatch.keyholders.models import Keyholder, KeyholderShelter, OwnerShelter
from shelterwatch.log.models import Fact


def test_each_imported_person_gets_their_shelters_and_a_fact_naming_them(
        settings: Settings, tmp_path: Path) -> None:
    lines = ["role,name,shelter_id,email,sms,telegram,webhook"]
    for n in range(300):  # person n holds shelters n and n + 1000
        lines += [f"keyholder,Holder {n},{n},k{n}@example.invalid,+38050{n:07d},,",
                  f"keyholder,Holder {n},{n + 1000},k{n}@example.invalid,+38050{n:07d},,"]
    lines += ["owner,ЖЕК 7,5,office@example.invalid,,,", "owner,ЖЕК 7,6,office@example.invalid,,,"]
    path = tmp_path / "keyholders.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = CliRunner().invoke(cli, ["keyholders", "import", str(path)])
    assert done.exit_code == 0, done.output
    assert "imported 300 keyholders and 1 owners" in done.output
    with db.reading(settings.database_url) as s:
        people = {k.id: (k.name, k.email) for k in s.execute(select(Keyholder)).scalars()}
        links: dict[int, list[int]] = {}
        for link in s.execute(select(KeyholderShelter)).scalars():
            links.setdefault(link.keyholder_id, []).append(link.shelter_id)
        facts = s.execute(select(Fact.payload, Fact.private)
                          .where(Fact.kind == "keyholder.created").order_by(Fact.seq)).all()
        owners = s.execute(select(OwnerShelter.shelter_id)).scalars().all()
        verdict = CliRunner().invoke(cli, ["log", "verify"])
    assert len(people) == len(facts) == 300 and sorted(owners) == [5, 6]
    for public, secret in facts:
        payload, private = orjson.loads(public), orjson.loads(secret or "{}")
        name, email = people[payload["id"]]
        n = int(name.split()[1])
        assert payload["shelter_ids"] == sorted(links[payload["id"]]) == [n, n + 1000]
        assert private["email"] == email == f"k{n}@example.invalid"
        assert "example.invalid" not in public
    assert verdict.exit_code == 0, verdict.output


def test_a_keyholder_registered_after_an_import_gets_a_new_id(
        settings: Settings, tmp_path: Path) -> None:
    """The import hands out ids itself; the next one registered by hand must not collide."""
    path = tmp_path / "keyholders.csv"
    path.write_text("role,name,shelter_id,email\n"
                    + "".join(f"keyholder,Holder {n},{n},k{n}@example.invalid\n"
                              for n in range(150))
                    + "owner,ЖЕК 7,5,office@example.invalid\n", encoding="utf-8")
    assert CliRunner().invoke(cli, ["keyholders", "import", str(path)]).exit_code == 0
    with db.transaction(settings.database_url) as s:
        later = keyholders.create_keyholder(
            s, contact=keyholders.ContactIn(name="Late", sms="+380500000001"),
            shelter_ids=[1], now=utcnow(), actor="test").id
        owner = keyholders.create_owner(
            s, contact=keyholders.ContactIn(name="Owner 2", email="o2@example.invalid"),
            shelter_ids=[1], now=utcnow(), actor="test").id
    with db.reading(settings.database_url) as s:
        imported = s.execute(select(Keyholder.id).where(Keyholder.name != "Late")).scalars()
        assert later > max(imported)
    assert owner > 1
    assert CliRunner().invoke(cli, ["log", "verify"]).exit_code == 0


def test_a_bad_row_names_its_line_and_imports_no_one(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "keyholders.csv"
    path.write_text("role,name,shelter_id,email,sms,telegram,webhook\n"
                    "keyholder,Holder 1,1,k1@example.invalid,,,\n"
                    "\n"  # blank: skipped but counted, so the line named is the one to open
                    "keyholder,Holder 2,2,,,,ftp://example.invalid/hook\n", encoding="utf-8")
    done = CliRunner().invoke(cli, ["keyholders", "import", str(path)])
    assert done.exit_code == 1
    assert "line 4: Holder 2: webhook must be an http(s) URL" in done.output
    with db.reading(settings.database_url) as s:
        assert s.execute(select(Keyholder.id)).first() is None


def test_the_import_starts_without_the_web_stack_or_rich(settings: Settings,
                                                         tmp_path: Path) -> None:
    """A city's operator runs it in a fresh process; what it imports is most of its time."""
    import os
    import subprocess
    import sys

    path = tmp_path / "keyholders.csv"
    path.write_text("role,name,shelter_id,email,sms,telegram,webhook\n"
                    "keyholder,Holder,1,k@example.invalid,,,\n", encoding="utf-8")
    program = ("import atexit, sys\n"
               "atexit.register(lambda: print(sorted({m.split('.')[0] for m in sys.modules})))\n"
               "sys.argv = ['shelterwatch', 'keyholders', 'import', sys.argv[1]]\n"
               "from shelterwatch.cli.main import main\n"
               "main()\n")
    done = subprocess.run([sys.executable, "-c", program, str(path)], capture_output=True,
                          text=True, timeout=120,
                          env={**os.environ, "DATABASE_URL": settings.database_url})
    assert done.returncode == 0, done.stderr
    assert "imported 1 keyholders and 0 owners" in done.stdout
    loaded = done.stdout.strip().splitlines()[-1]
    for heavy in ("fastapi", "starlette", "rich", "httpx", "numpy", "shapely"):
        assert f"'{heavy}'" not in loaded, heavy
