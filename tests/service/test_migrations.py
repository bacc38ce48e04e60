"""Alembic: the migrations build exactly the models' schema, and downgrade to nothing and back cleanly."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from nerasense.service.db import Base
from nerasense.service.migrate import downgrade, upgrade


def test_upgrade_matches_models_and_downgrade_is_clean(database_url: str) -> None:
    engine = sa.create_engine(database_url)
    try:
        downgrade(engine, "base")
        assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade(engine)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert diff == [], diff
        assert set(sa.inspect(engine).get_table_names()) == set(Base.metadata.tables) | {"alembic_version"}
        downgrade(engine, "base")
        assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade(engine)  # and up again on the same database
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == "r0002"
        downgrade(engine, "r0001")  # one step down and up again: the newest migration alone
        assert "source_json" not in {c["name"] for c in sa.inspect(engine).get_columns("jobs")}
        upgrade(engine)
        assert "source_json" in {c["name"] for c in sa.inspect(engine).get_columns("jobs")}
    finally:
        engine.dispose()
