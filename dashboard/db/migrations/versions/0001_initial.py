"""History tables: incidents, changes, chaos runs and source status.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _timestamp(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _text(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.Text(), nullable=nullable)


def _bookkeeping() -> list[sa.Column]:
    return [_timestamp("first_seen_at", nullable=False), _timestamp("updated_at", nullable=False)]


def upgrade() -> None:
    op.create_table(
        "incidents",
        _text("incident_id"),
        _text("title"),
        sa.Column("priority", sa.Integer(), nullable=False),
        _text("state"),
        _text("service", nullable=True),
        _timestamp("opened_at", nullable=False),
        _timestamp("acknowledged_at"),
        _timestamp("resolved_at"),
        _text("assignment_group", nullable=True),
        _text("change_id", nullable=True),
        _text("runbook_url", nullable=True),
        _text("source"),
        _text("url", nullable=True),
        *_bookkeeping(),
        sa.PrimaryKeyConstraint("source", "incident_id"),
    )
    op.create_index("ix_incidents_opened_at", "incidents", ["opened_at"])

    op.create_table(
        "changes",
        _text("change_id"),
        _text("title"),
        _text("service", nullable=True),
        _text("type"),
        _text("state"),
        _timestamp("planned_start"),
        _timestamp("planned_end"),
        _timestamp("actual_start"),
        _timestamp("actual_end"),
        _text("outcome"),
        _text("source"),
        _text("url", nullable=True),
        *_bookkeeping(),
        sa.PrimaryKeyConstraint("source", "change_id"),
    )
    op.create_index("ix_changes_planned_start", "changes", ["planned_start"])
    op.create_index("ix_changes_actual_start", "changes", ["actual_start"])

    op.create_table(
        "chaos_runs",
        _text("run_id"),
        _text("experiment"),
        _text("service", nullable=True),
        _text("fault", nullable=True),
        _timestamp("started_at", nullable=False),
        _timestamp("ended_at"),
        _text("status"),
        sa.Column("deviated", sa.Boolean(), nullable=False),
        sa.Column("probe_success_ratio", sa.Float(), nullable=True),
        sa.Column("recovery_s", sa.Float(), nullable=True),
        _text("source"),
        _text("url", nullable=True),
        *_bookkeeping(),
        sa.PrimaryKeyConstraint("source", "run_id"),
    )
    op.create_index("ix_chaos_runs_started_at", "chaos_runs", ["started_at"])

    op.create_table(
        "source_status_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        _text("source"),
        _text("kind"),
        _timestamp("last_attempt"),
        _timestamp("last_success"),
        sa.Column("ok", sa.Boolean(), nullable=False),
        _text("error", nullable=True),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("duration_ms", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_source_status_history_last_attempt", "source_status_history", ["last_attempt"])


def downgrade() -> None:
    op.drop_table("source_status_history")
    op.drop_table("chaos_runs")
    op.drop_table("changes")
    op.drop_table("incidents")
