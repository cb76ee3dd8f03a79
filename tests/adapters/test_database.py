"""The schema comes only from migrations, and they match the models, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from vectis_admin.adapters.db.models import Base
from vectis_admin.adapters.db.session import create_db_engine, migrate


def test_migrations_build_exactly_the_models(database_url: str) -> None:
    engine = create_db_engine(database_url)
    try:
        migrate(engine)
        migrate(engine)  # idempotent: applied on every start
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert diff == []
        tables = set(inspect(engine).get_table_names())
        assert {"registries", "audit_events", "users", "api_tokens", "alembic_version"} <= tables
    finally:
        engine.dispose()
