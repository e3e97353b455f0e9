"""Each chain's in-session SLO events per hour, so the error budget's window outlives the poller.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "slo_hours",
        sa.Column("chain", sa.Text(), nullable=False),
        sa.Column("objective", sa.Text(), nullable=False),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
        sa.Column("bad", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("chain", "objective", "hour"),
    )
    op.create_index("ix_slo_hours_hour", "slo_hours", ["hour"])


def downgrade() -> None:
    op.drop_table("slo_hours")
