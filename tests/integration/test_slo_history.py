"""The chains' SLO hours in the history database, on SQLite and the real PostgreSQL: migration 0014, the
upsert keeping the fuller view of an hour (never a duplicate row), reads from a moment and pruning, and
the days the backfill read (migration 0015)."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from dashboard.db import slo_hours
from dashboard.db.history import MIGRATIONS, History

HOUR = pd.Timestamp("2026-11-18 05:00", tz="UTC")  # 13:00 on a Wednesday in Shanghai


def hours(*rows) -> pd.DataFrame:
    """Rows of (chain, hours after HOUR, total, bad) as the availability objective's hours."""
    return pd.DataFrame(
        {
            "chain": [r[0] for r in rows],
            "objective": ["availability"] * len(rows),
            "hour": pd.DatetimeIndex([HOUR + pd.Timedelta(hours=r[1]) for r in rows]),
            "total": [float(r[2]) for r in rows],
            "bad": [float(r[3]) for r in rows],
        }
    )


def test_hours_are_kept_fuller_view_first_and_read_back_after_a_restart(history, database_url):
    assert slo_hours.upsert(history.engine, hours(("pay", 0, 1000, 10), ("pay", 1, 400, 0))) == 2
    slo_hours.upsert(history.engine, hours(("pay", 0, 300, 0), ("pay", 1, 900, 5), ("fx", 1, 50, 1)))
    restarted = History(database_url)
    stored = slo_hours.read(restarted.engine, HOUR - pd.Timedelta(days=30))
    restarted.close()
    assert stored[["chain", "hour", "total", "bad"]].values.tolist() == [
        ["fx", HOUR + pd.Timedelta(hours=1), 50.0, 1.0],
        ["pay", HOUR, 1000.0, 10.0],  # the later, partial view of 13:00 did not lower it
        ["pay", HOUR + pd.Timedelta(hours=1), 900.0, 5.0],  # the fuller view of 14:00 replaced the partial one
    ]
    assert str(stored["hour"].dtype) == "datetime64[ns, UTC]"
    assert slo_hours.prune(history.engine, HOUR + pd.Timedelta(minutes=30)) == 1
    assert len(slo_hours.read(history.engine, HOUR - pd.Timedelta(days=1))) == 2


def test_migration_0014_creates_the_table_and_downgrading_drops_it(history):
    assert "slo_hours" in sa.inspect(history.engine).get_table_names()
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with history.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0013")
    assert "slo_hours" not in sa.inspect(history.engine).get_table_names()
    history.migrate()
    assert slo_hours.read(history.engine, HOUR).empty


def test_days_read_are_marked_once_read_per_source_and_pruned_with_the_hours(history):
    day = pd.Timestamp("2026-11-17 16:00", tz="UTC")  # Wednesday 18 November in Shanghai
    slo_hours.mark_read(history.engine, "prom", day)
    slo_hours.mark_read(history.engine, "prom", day)  # read again: still one mark
    slo_hours.mark_read(history.engine, "prom", day - pd.Timedelta(days=1))
    slo_hours.mark_read(history.engine, "demo", day)
    assert slo_hours.days_read(history.engine, "prom", day - pd.Timedelta(days=30)) == {
        day - pd.Timedelta(days=1),
        day,
    }
    assert slo_hours.days_read(history.engine, "prom", day) == {day}
    slo_hours.prune(history.engine, day)
    assert slo_hours.days_read(history.engine, "prom", day - pd.Timedelta(days=30)) == {day}


def test_migration_0015_creates_the_days_read_and_downgrading_drops_them(history):
    assert "slo_days_read" in sa.inspect(history.engine).get_table_names()
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with history.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0014")
    assert "slo_days_read" not in sa.inspect(history.engine).get_table_names()
    assert "slo_hours" in sa.inspect(history.engine).get_table_names()
    history.migrate()
    assert slo_hours.days_read(history.engine, "prom", HOUR) == set()
