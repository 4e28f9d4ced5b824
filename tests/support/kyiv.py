"""The real Kyiv registry as the product bundles it."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from shelterwatch import db
from shelterwatch.clock import utcnow
from shelterwatch.ingest import mapping as mappings
from shelterwatch.ingest import registry_csv
from shelterwatch.shelters import importer

KYIV_DIR = Path(str(resources.files("shelterwatch.data.kyiv")))
KYIV_CSV = KYIV_DIR / "kyiv_shelters_2022-02-25.csv"
KYIV_MAPPING = KYIV_DIR / "kmda-2022.toml"


def import_kyiv(url: str) -> None:
    mapping = mappings.load(KYIV_MAPPING)
    with db.transaction(url) as session:
        importer.import_records(session, registry_csv.read(KYIV_CSV, mapping),
                                source="kmda-2022", now=utcnow())
