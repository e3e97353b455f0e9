"""Daily utilisation peaks per instance, kept beyond the poller's memory and the source's retention.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "utilisation_peaks",
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("day", sa.DateTime(timezone=True), nullable=False),
        sa.Column("service", sa.Text(), nullable=False),
        sa.Column("instance", sa.Text(), nullable=False),
        sa.Column("site", sa.Text(), nullable=True),
        sa.Column("cpu_ratio", sa.Float(), nullable=True),
        sa.Column("memory_ratio", sa.Float(), nullable=True),
        sa.Column("memory_limit_bytes", sa.Float(), nullable=True),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("source", "day", "instance"),
    )
    op.create_index("ix_utilisation_peaks_day", "utilisation_peaks", ["day"])


def downgrade() -> None:
    op.drop_table("utilisation_peaks")
