"""Incidents declared in opscenter, from an alert or from nothing, with the ITSM ticket opened for them.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "declared_incidents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("service", sa.Text(), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("declared_by", sa.Text(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("alert_source", sa.Text(), nullable=True),
        sa.Column("alert_id", sa.Text(), nullable=True),
        sa.Column("alert_name", sa.Text(), nullable=True),
        sa.Column("alert_url", sa.Text(), nullable=True),
        sa.Column("ticket_source", sa.Text(), nullable=True),
        sa.Column("ticket_id", sa.Text(), nullable=True),
        sa.Column("ticket_url", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_declared_incidents_alert", "declared_incidents", ["alert_source", "alert_id"])


def downgrade() -> None:
    op.drop_table("declared_incidents")
