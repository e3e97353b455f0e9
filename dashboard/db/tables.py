"""Every table of the history database, in one place: the ITSM and chaos history the poller
upserts, source status, the access records (display tokens, users, their sessions, the append-only
audit log) and the maturity records.

Modules that write a table import it from here; the Alembic migrations in ``dashboard/db/migrations``
create them, and ``metadata`` lets the migration tests compare the two.
"""

from __future__ import annotations

from datetime import UTC

import sqlalchemy as sa

from datasources.base import CONTRACTS


class UTCDateTime(sa.TypeDecorator):
    """A timestamp stored as UTC (timezone-naive on SQLite) and read back tz-aware UTC."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


_TYPES = {"str": sa.Text, "int": sa.Integer, "float": sa.Float, "bool": sa.Boolean, "ts": UTCDateTime}

metadata = sa.MetaData()


def _contract_columns(frame: str) -> list[sa.Column]:
    return [sa.Column(c.name, _TYPES[c.kind](), nullable=c.nullable) for c in CONTRACTS[frame]]


def _entity_table(frame: str, key: str, *time_columns: str) -> sa.Table:
    """An upserted frame: contract columns, keyed by (source, key), with bookkeeping timestamps."""
    return sa.Table(
        frame,
        metadata,
        *_contract_columns(frame),
        sa.Column("first_seen_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("source", key),
        *(sa.Index(f"ix_{frame}_{column}", column) for column in time_columns),
    )


incidents = _entity_table("incidents", "incident_id", "opened_at")
changes = _entity_table("changes", "change_id", "planned_start", "actual_start")
chaos_runs = _entity_table("chaos_runs", "run_id", "started_at")
source_status_history = sa.Table(
    "source_status_history",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    *_contract_columns("source_status"),
    sa.Index("ix_source_status_history_last_attempt", "last_attempt"),
)

display_tokens = sa.Table(
    "display_tokens",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("token_sha256", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("revoked_at", UTCDateTime(), nullable=True),
    sa.Column("revoked_by", sa.Text, nullable=True),
    sa.Index("ix_display_tokens_name", "name"),
    sa.Index("ux_display_tokens_token_sha256", "token_sha256", unique=True),
)
users = sa.Table(
    "users",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("disabled_at", UTCDateTime(), nullable=True),  # a disabled user can neither sign in nor stay in
)
user_sessions = sa.Table(
    "user_sessions",
    metadata,
    sa.Column("id_sha256", sa.Text, primary_key=True),
    sa.Column("user_name", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("last_seen_at", UTCDateTime(), nullable=False),
    sa.Column("address", sa.Text, nullable=True),
    sa.Index("ix_user_sessions_user_name", "user_name"),
)
audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("roles", sa.Text, nullable=False),
    sa.Column("address", sa.Text, nullable=True),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("target", sa.Text, nullable=False),
    sa.Column("detail", sa.Text, nullable=True),
    sa.Column("allowed", sa.Boolean, nullable=False),
    sa.Index("ix_audit_log_at", "at"),
)

maturity_evidence = sa.Table(
    "maturity_evidence",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("item_id", sa.Text, nullable=False),
    sa.Column("evaluated_at", UTCDateTime(), nullable=False),
    sa.Column("rule", sa.Text, nullable=False),
    sa.Column("query", sa.Text, nullable=False),
    sa.Column("value", sa.Float, nullable=True),
    sa.Column("passed", sa.Boolean, nullable=True),
    sa.Column("digest", sa.Text, nullable=False),
    sa.Column("findings", sa.Text, nullable=True),  # JSON: what a failing rule found (dashboard.maturity.findings)
    sa.Index("ix_maturity_evidence_item_at", "item_id", "evaluated_at"),
)
maturity_assessments = sa.Table(
    "maturity_assessments",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("item_id", sa.Text, nullable=False),
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Column("assessor", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("justification", sa.Text, nullable=False),
    sa.Column("evidence_links", sa.Text, nullable=False),
    sa.Column("proposed", sa.Text, nullable=True),
    sa.Index("ix_maturity_assessments_item_at", "item_id", "at"),
)

# Daily utilisation peaks per instance (``dashboard.db.peaks``): the 30-day trend and the peak day outlive
# the poller and the source's retention. ``day`` is the local day's start in UTC, as in the frame;
# ``complete`` marks a day read whole from the source's history.
utilisation_peaks = sa.Table(
    "utilisation_peaks",
    metadata,
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("day", UTCDateTime(), nullable=False),
    sa.Column("service", sa.Text, nullable=False),
    sa.Column("instance", sa.Text, nullable=False),
    sa.Column("site", sa.Text, nullable=True),
    sa.Column("cpu_ratio", sa.Float, nullable=True),
    sa.Column("memory_ratio", sa.Float, nullable=True),
    sa.Column("memory_limit_bytes", sa.Float, nullable=True),
    sa.Column("complete", sa.Boolean, nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint("source", "day", "instance"),
    sa.Index("ix_utilisation_peaks_day", "day"),
)


# What duty managers did to incidents from opscenter, each row also an outbox entry for the ITSM
# (dashboard.command.actions): writeback is pending until delivered, local when nothing is sent.
incident_actions = sa.Table(
    "incident_actions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("incident_id", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Column("detail", sa.Text, nullable=False),  # JSON
    sa.Column("writeback", sa.Text, nullable=False),  # pending, delivered, local
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", UTCDateTime(), nullable=True),
    sa.Column("delivered_at", UTCDateTime(), nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Index("ix_incident_actions_incident", "source", "incident_id", "at"),
    sa.Index("ix_incident_actions_writeback", "writeback", "next_attempt_at"),
)

incident_grades = sa.Table(  # the regulator's grade of an incident as the duty manager confirmed it; append-only
    "incident_grades",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("incident_id", sa.Text, nullable=False),
    sa.Column("grade", sa.Text, nullable=False),
    sa.Column("proposed", sa.Text, nullable=False),  # the grade proposed when it was confirmed
    sa.Column("session_minutes", sa.Integer, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Index("ix_incident_grades_incident", "source", "incident_id", "at"),
)

incident_report_submissions = sa.Table(  # a report due to the regulator marked as submitted; append-only
    "incident_report_submissions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("incident_id", sa.Text, nullable=False),
    sa.Column("report", sa.Text, nullable=False),  # initial, written, summary
    sa.Column("reference", sa.Text, nullable=True),  # the regulator's submission number, if any
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("at", UTCDateTime(), nullable=False),  # when it was recorded as submitted
    sa.Index("ix_incident_report_submissions_incident", "source", "incident_id", "at"),
)

# Notifications of incidents (dashboard.command.notifications): one row per incident, escalation level
# and channel, unique, so however many pollers run a level is notified once; status pending until
# sent, failed after the last attempt, cancelled once the incident is acknowledged or over.
incident_notifications = sa.Table(
    "incident_notifications",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("incident_id", sa.Text, nullable=False),
    sa.Column("level", sa.Integer, nullable=False),
    sa.Column("channel", sa.Text, nullable=False),
    sa.Column("recipients", sa.Text, nullable=False),  # JSON: the people on duty, as the roster named them
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("status", sa.Text, nullable=False),  # pending, sent, failed, cancelled
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", UTCDateTime(), nullable=True),
    sa.Column("sent_at", UTCDateTime(), nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.UniqueConstraint("source", "incident_id", "level", "channel", name="uq_incident_notifications_level"),
    sa.Index("ix_incident_notifications_status", "status", "next_attempt_at"),
)

preplan_steps = sa.Table(  # pre-plan checklist steps ticked and unticked on incidents
    "preplan_steps",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("incident_id", sa.Text, nullable=False),
    sa.Column("preplan_id", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("step", sa.Integer, nullable=False),  # 1-based
    sa.Column("done", sa.Boolean, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Index("ix_preplan_steps_incident", "source", "incident_id", "at"),
    sa.Index("ix_preplan_steps_at", "at"),
)

declared_incidents = sa.Table(
    "declared_incidents",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),  # the incident is OC-<id>
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("service", sa.Text, nullable=True),
    sa.Column("priority", sa.Integer, nullable=False),
    sa.Column("summary", sa.Text, nullable=True),
    sa.Column("declared_by", sa.Text, nullable=False),
    sa.Column("opened_at", UTCDateTime(), nullable=False),
    sa.Column("alert_source", sa.Text, nullable=True),  # declared from an alert: which one
    sa.Column("alert_id", sa.Text, nullable=True),
    sa.Column("alert_name", sa.Text, nullable=True),
    sa.Column("alert_url", sa.Text, nullable=True),
    sa.Column("ticket_source", sa.Text, nullable=True),  # the ITSM ticket opened for it, once opened
    sa.Column("ticket_id", sa.Text, nullable=True),
    sa.Column("ticket_url", sa.Text, nullable=True),
    sa.Index("ix_declared_incidents_alert", "alert_source", "alert_id"),
)

# Each chain's in-session SLO events per UTC hour (dashboard.db.slo_hours): the error budget's 30 days
# outlive the poller and the polled window. A write keeps the fuller view of an hour (more events).
slo_hours = sa.Table(
    "slo_hours",
    metadata,
    sa.Column("chain", sa.Text, nullable=False),
    sa.Column("objective", sa.Text, nullable=False),  # availability, latency
    sa.Column("hour", UTCDateTime(), nullable=False),
    sa.Column("total", sa.Float, nullable=False),
    sa.Column("bad", sa.Float, nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint("chain", "objective", "hour"),
    sa.Index("ix_slo_hours_hour", "hour"),
)

# The local days whose SLO hours the derived step's backfill read whole from a source's history
# (dashboard.db.slo_hours): such a day is not read again.
slo_days_read = sa.Table(
    "slo_days_read",
    metadata,
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("day", UTCDateTime(), nullable=False),  # the local day's start, in UTC
    sa.Column("read_at", UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint("source", "day"),
)
