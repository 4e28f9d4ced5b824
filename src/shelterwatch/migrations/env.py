"""Alembic environment: the database URL comes from the same settings the app uses."""

from __future__ import annotations

from alembic import context

from shelterwatch import db
from shelterwatch.config import get_settings

url = context.config.attributes.get("database_url") or get_settings().database_url
engine = db.make_engine(url, write=True)
with engine.connect() as connection:
    context.configure(connection=connection, render_as_batch=db.is_sqlite(url))
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
