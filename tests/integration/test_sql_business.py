"""SQL business figures on SQLite and the real PostgreSQL: mapped columns, the window, bad rows dropped."""

import logging
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
import sqlalchemy as sa

from datasources.base import OptionsError, validate
from datasources.itsm.sql import SqlSource

NOW = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
ROWS = [  # at, line, system, figure, amount, desk, via
    (NOW - timedelta(minutes=1), "equity-trading", "order-gateway", "order_success_ratio", 0.995, None, None),
    (NOW - timedelta(minutes=1), "equity-trading", "order-gateway", "order_success_ratio", 0.87, "central-b", "app"),
    (NOW - timedelta(minutes=2), "accounts", "bank-transfer", "transfers_per_s", 31.5, None, "app"),
    (NOW - timedelta(minutes=3), "equity-trading", "order-gateway", "orders_per_minute", 3.0, None, None),
    (NOW - timedelta(minutes=3), "equity-trading", "order-gateway", "orders_per_s", None, None, None),
    (NOW - timedelta(hours=2), "equity-trading", "order-gateway", "orders_per_s", 800.0, None, None),
]
OPTIONS = {
    "business_metrics": {
        "table": "figures",
        "window_m": 30,
        "columns": {
            "ts": "at",
            "chain": "line",
            "service": "system",
            "metric": "figure",
            "value": "amount",
            "counter": "desk",
            "channel": "via",
            "market": None,
            "reason": None,
        },
    }
}


@pytest.fixture
def figures_db(database_url):
    engine = sa.create_engine(database_url)
    table = sa.Table(
        "figures",
        sa.MetaData(),
        sa.Column("at", sa.DateTime(timezone=True)),
        *(sa.Column(name, sa.Text) for name in ("line", "system", "figure")),
        sa.Column("amount", sa.Float),
        *(sa.Column(name, sa.Text) for name in ("desk", "via")),
    )
    with engine.begin() as conn:
        table.create(conn)
        conn.execute(
            table.insert(), [dict(zip(["at", "line", "system", "figure", "amount", "desk", "via"], r)) for r in ROWS]
        )
    yield database_url
    engine.dispose()


def test_reads_the_window_of_mapped_figures_and_drops_bad_rows(figures_db, caplog):
    source = SqlSource(name="figures-db", options={"url": figures_db, **OPTIONS})
    assert SqlSource.offers(OPTIONS) == {"business_metrics"}
    with caplog.at_level(logging.WARNING):
        frame = validate("business_metrics", source.fetch(NOW)["business_metrics"])
    source.close()
    assert "figures-db: 2 business_metrics row(s) rejected" in caplog.text  # an unknown metric, a missing value
    assert list(frame["metric"]) == ["transfers_per_s", "order_success_ratio", "order_success_ratio"]
    spiking = frame[frame["counter"] == "central-b"].iloc[0]
    assert (spiking["value"], spiking["channel"], spiking["market"]) == (0.87, "app", None)
    assert frame["ts"].min() == pd.Timestamp(NOW - timedelta(minutes=2))  # two hours ago is outside the window


def test_a_required_column_left_unread_is_refused():
    with pytest.raises(OptionsError, match="required column"):
        SqlSource(
            name="figures-db",
            options={"url": "sqlite://", "business_metrics": {"table": "t", "columns": {"value": None}}},
        )
