"""clusters and pull secret sync

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "secret_syncs",
        sa.Column("registry_id", sa.String(length=36), nullable=False),
        sa.Column("orchestrator_id", sa.String(length=36), nullable=False),
        sa.Column("namespace", sa.String(length=63), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("desired", sa.String(length=20), nullable=False),
        sa.Column("content_hash", sa.String(length=80), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("registry_id", "orchestrator_id", "namespace"),
    )
    with op.batch_alter_table("secret_syncs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_secret_syncs_next_attempt_at"), ["next_attempt_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_secret_syncs_state"), ["state"], unique=False)

    op.create_table(
        "clusters",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("environment", sa.String(length=20), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("orchestrator_id", sa.String(length=36), nullable=False),
        sa.Column("namespace", sa.String(length=63), nullable=False),
        sa.Column("create_namespace", sa.Boolean(), nullable=False),
        sa.Column("deployment_name", sa.String(length=63), nullable=False),
        sa.Column("replicas", sa.Integer(), nullable=False),
        sa.Column("storage_host_path", sa.String(length=500), nullable=False),
        sa.Column("storage_size", sa.String(length=20), nullable=False),
        sa.Column("vectis_port", sa.Integer(), nullable=False),
        sa.Column("registry_id", sa.String(length=36), nullable=True),
        sa.Column("image", sa.String(length=600), nullable=False),
        sa.Column("deployment_state", sa.String(length=20), nullable=False),
        sa.Column("state_reason", sa.Text(), nullable=False),
        sa.Column("deployed_objects", sa.JSON(), nullable=False),
        sa.Column("deployed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("restarted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["orchestrator_id"],
            ["orchestrators.id"],
        ),
        sa.ForeignKeyConstraint(
            ["registry_id"],
            ["registries.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    with op.batch_alter_table("clusters", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_clusters_orchestrator_id"), ["orchestrator_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_clusters_registry_id"), ["registry_id"], unique=False)

    op.create_table(
        "registry_namespaces",
        sa.Column("registry_id", sa.String(length=36), nullable=False),
        sa.Column("orchestrator_id", sa.String(length=36), nullable=False),
        sa.Column("namespace", sa.String(length=63), nullable=False),
        sa.ForeignKeyConstraint(["orchestrator_id"], ["orchestrators.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["registry_id"], ["registries.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("registry_id", "orchestrator_id", "namespace"),
    )


def downgrade() -> None:
    op.drop_table("registry_namespaces")
    with op.batch_alter_table("clusters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_clusters_registry_id"))
        batch_op.drop_index(batch_op.f("ix_clusters_orchestrator_id"))

    op.drop_table("clusters")
    with op.batch_alter_table("secret_syncs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_secret_syncs_state"))
        batch_op.drop_index(batch_op.f("ix_secret_syncs_next_attempt_at"))

    op.drop_table("secret_syncs")
