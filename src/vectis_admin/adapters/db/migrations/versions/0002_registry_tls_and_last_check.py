"""registry TLS mode, CA bundle and last check summary

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("registries") as batch_op:
        batch_op.add_column(
            sa.Column("tls_mode", sa.String(length=20), server_default="verify", nullable=False)
        )
        batch_op.add_column(sa.Column("ca_bundle", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("last_check_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("last_check_ok", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("last_check_summary", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("registries") as batch_op:
        for column in (
            "last_check_summary",
            "last_check_ok",
            "last_check_at",
            "ca_bundle",
            "tls_mode",
        ):
            batch_op.drop_column(column)
