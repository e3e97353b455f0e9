"""Daily utilisation peaks in the history database, on SQLite and the real PostgreSQL: migration 0006,
the upsert per day (a re-run day is raised in place, never duplicated), reads and pruning."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from dashboard.db import peaks
from dashboard.db.history import MIGRATIONS, History
from datasources.base import validate

DAY = pd.Timestamp("2026-11-16", tz="Asia/Shanghai").tz_convert("UTC")  # a Monday in Shanghai


def day_peaks(day: pd.Timestamp, cpu: dict[str, float | None], memory: float = 0.5) -> pd.DataFrame:
    """One day's peaks of the instances in ``cpu`` (instance -> CPU peak), each of service ``svc``."""
    return validate(
        "utilisation_peaks",
        pd.DataFrame(
            {
                "day": pd.Series([day] * len(cpu), dtype="datetime64[ns, UTC]"),
                "service": ["svc"] * len(cpu),
                "instance": list(cpu),
                "cpu_ratio": [float("nan") if v is None else v for v in cpu.values()],
                "memory_ratio": [memory] * len(cpu),
                "memory_limit_bytes": [8 * 2.0**30] * len(cpu),
            }
        ),
    )


def _downgrade(history: History, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with history.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def test_migration_0006_creates_the_table_and_downgrading_drops_it(history):
    assert "utilisation_peaks" in sa.inspect(history.engine).get_table_names()
    peaks.upsert(history.engine, "prom", day_peaks(DAY, {"a": 0.4}))
    _downgrade(history, "0005")
    assert "utilisation_peaks" not in sa.inspect(history.engine).get_table_names()
    history.migrate()
    assert peaks.read(history.engine, DAY).empty


def test_re_running_a_day_raises_its_peaks_in_place_and_never_duplicates(history):
    engine = history.engine
    sites = pd.Series({"a": "sh", "b": "sz"})
    assert peaks.upsert(engine, "prom", day_peaks(DAY, {"a": 0.40, "b": 0.70}), sites) == 2
    assert peaks.upsert(engine, "prom", day_peaks(DAY, {"a": 0.55, "b": 0.60, "c": None}, memory=0.6)) == 3
    stored = peaks.read(engine, DAY).set_index("instance")
    assert len(stored) == 3
    assert stored.loc["a", "cpu_ratio"] == 0.55  # higher: raised
    assert stored.loc["b", "cpu_ratio"] == 0.70  # lower: the day's peak stays
    assert pd.isna(stored.loc["c", "cpu_ratio"])
    assert (stored["memory_ratio"] == 0.6).all()
    assert stored.loc[["a", "b"], "x_site"].tolist() == ["sh", "sz"]  # a write without sites keeps them
    assert stored["x_source"].eq("prom").all() and (stored["day"] == DAY).all()
    validate("utilisation_peaks", peaks.read(engine, DAY))
    peaks.upsert(engine, "prom", day_peaks(DAY, {"c": 0.3}))
    assert peaks.read(engine, DAY).set_index("instance").loc["c", "cpu_ratio"] == 0.3  # a known value fills a gap


def test_days_and_sources_are_kept_apart_and_completeness_sticks(history):
    engine = history.engine
    yesterday = DAY - pd.Timedelta(days=1)
    peaks.upsert(engine, "prom", day_peaks(yesterday, {"a": 0.2}), complete=True)
    peaks.upsert(engine, "prom", day_peaks(DAY, {"a": 0.3}))
    peaks.upsert(engine, "other", day_peaks(DAY, {"a": 0.9}), complete=True)
    peaks.upsert(engine, "prom", day_peaks(yesterday, {"a": 0.1}))  # a partial view afterwards
    assert peaks.complete_days(engine, "prom", yesterday) == {yesterday}
    assert peaks.complete_days(engine, "prom", DAY) == set()
    stored = peaks.read(engine, yesterday)
    assert list(zip(stored["day"], stored["x_source"], stored["cpu_ratio"])) == [
        (yesterday, "prom", 0.2),
        (DAY, "other", 0.9),
        (DAY, "prom", 0.3),
    ]
    assert len(peaks.read(engine, DAY)) == 2


def test_prune_drops_the_days_before_the_retention(history):
    engine = history.engine
    old = DAY - pd.Timedelta(days=peaks.RETENTION_DAYS + 1)
    peaks.upsert(engine, "prom", day_peaks(old, {"a": 0.2}))
    peaks.upsert(engine, "prom", day_peaks(DAY, {"a": 0.3}))
    assert peaks.prune(engine, DAY - pd.Timedelta(days=peaks.RETENTION_DAYS)) == 1
    assert peaks.read(engine, old)["day"].tolist() == [DAY]
