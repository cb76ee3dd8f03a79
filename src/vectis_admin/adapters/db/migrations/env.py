"""Alembic environment: runs on the connection handed in by `session.migrate()`."""

from __future__ import annotations

from alembic import context

from vectis_admin.adapters.db.models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite can only ALTER via copies
)
with context.begin_transaction():
    context.run_migrations()
