"""Peaks that survive a restart, on a real Prometheus backfilled with 31 days of node_exporter series: one
poll and its derived step keep every instance's daily peaks in the history database (learnt, backfilled
day by day, and the day in progress), and a new store and app (a restart) show the last completed trading
day's peaks and the 30-day trend on /capacity from the database alone."""

import numpy as np
import pandas as pd
import pytest

from dashboard import ids
from dashboard.app import create_app
from dashboard.core.derived import DerivedFrames
from dashboard.core.poller import Poller
from dashboard.core.settings import Settings
from dashboard.core.store import open_store
from dashboard.db import peaks
from dashboard.db.history import History
from datasources.monitoring.prometheus import PrometheusSource
from layouts.pages import capacity as capacity_page
from tests.servers import backfill, prometheus

NOW = pd.Timestamp("2026-11-18 06:00", tz="UTC")  # 14:00 on a Wednesday in Shanghai: Tuesday is the peak day
START = NOW - pd.Timedelta(days=31)
SCRAPE_S = 60
TZ = "Asia/Shanghai"
BUSY_HOURS = (10, 11)  # local: an hour of trading at its busiest, every day
INSTANCES = {  # instance: service, its quiet CPU, its busy CPU on the first day, the busy CPU's rise a day
    "orders-1": ("orders", 0.10, 0.40, 0.005),
    "orders-2": ("orders", 0.10, 0.30, 0.0),
    "quotes-1": ("quotes", 0.05, 0.20, 0.002),
}
MEMORY_BYTES = 8 * 2.0**30


def day_index(day: pd.Timestamp) -> int:
    """The days from the first local day of the history to ``day`` (a local midnight)."""
    return (day.tz_convert(TZ).normalize() - START.tz_convert(TZ).normalize()).days


def busy_cpu(instance: str, day: pd.Timestamp) -> float:
    _service, _quiet, busy, rise = INSTANCES[instance]
    return busy + rise * day_index(day)


def openmetrics() -> str:
    """An idle CPU counter (one core) and memory gauges per instance, a sample a minute, each family's samples
    after its TYPE line; '# EOF' at the end."""
    stamps = np.arange(int(START.timestamp()), int(NOW.timestamp()) + 1, SCRAPE_S)
    local = pd.to_datetime(stamps, unit="s", utc=True).tz_convert(TZ)
    busy = (local.hour >= BUSY_HOURS[0]) & (local.hour < BUSY_HOURS[1])
    days = np.array([day_index(d) for d in local.normalize()])
    families = {
        "node_cpu_seconds_total counter": [],
        "node_memory_MemTotal_bytes gauge": [],
        "node_memory_MemAvailable_bytes gauge": [],
    }
    cpu_lines, total_lines, available_lines = families.values()
    for instance, (service, quiet, first, rise) in INSTANCES.items():
        idle = np.cumsum((1 - np.where(busy, first + rise * days, quiet)) * SCRAPE_S)
        available = MEMORY_BYTES * np.where(busy, 0.4, 0.7)
        labels = f'instance="{instance}",service="{service}"'
        for i, ts in enumerate(stamps):
            cpu_lines.append(f'node_cpu_seconds_total{{{labels},cpu="0",mode="idle"}} {idle[i]:.1f} {ts}')
            total_lines.append(f"node_memory_MemTotal_bytes{{{labels}}} {MEMORY_BYTES:.0f} {ts}")
            available_lines.append(f"node_memory_MemAvailable_bytes{{{labels}}} {available[i]:.0f} {ts}")
    lines = [line for family, samples in families.items() for line in (f"# TYPE {family}", *samples)]
    return "\n".join(lines + ["# EOF", ""])


@pytest.fixture(scope="module")
def month(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("month")
    backfill(openmetrics(), workdir / "data", max_block_duration="24h")
    with prometheus(workdir, data_dir=workdir / "data", retention="60d") as url:  # the first day kept whole
        yield url


def find(component, element_id: str):
    """The component ``element_id`` in a layout tree, or None."""
    if getattr(component, "id", None) == element_id:
        return component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list) else [children]:
        found = find(child, element_id) if hasattr(child, "children") or hasattr(child, "id") else None
        if found is not None:
            return found
    return None


def test_a_restarted_app_shows_the_peaks_and_the_trend_from_the_database(month, tmp_path):
    url = f"sqlite:///{tmp_path / 'history.sqlite3'}"
    history = History(url)
    history.migrate()
    source = PrometheusSource(name="prom", options={"url": month})
    store = open_store(None, "peaks-before", ["prom"])
    poller = Poller([source], store, history, clock=lambda: NOW.to_pydatetime(), derived=DerivedFrames(store, history))
    status = poller.poll(source)
    assert status["ok"], status["error"]
    derived = store.status("derived:prom")
    assert derived["ok"], derived["error"]

    today = NOW.tz_convert(TZ).normalize()
    days = pd.date_range(end=today - pd.Timedelta(days=1), periods=30, freq="D")
    stored = peaks.read(history.engine, days[0].tz_convert("UTC"))
    assert peaks.complete_days(history.engine, "prom", days[0].tz_convert("UTC")) == set(days.tz_convert("UTC"))
    for instance in INSTANCES:  # every instance's peak of every completed day, as the series were drawn
        mine = stored[(stored["instance"] == instance) & (stored["day"] < today)].set_index("day")
        assert mine.index.tolist() == days.tz_convert("UTC").tolist()
        expected = [busy_cpu(instance, day) for day in days]
        assert mine["cpu_ratio"].tolist() == pytest.approx(expected, abs=0.005), instance
        assert mine["memory_ratio"].tolist() == pytest.approx([0.6] * 30, abs=0.005)
    history.close()

    restarted = open_store(None, "peaks-after", ["prom"])  # nothing in it: the frames died with the process
    assert restarted.frame("utilisation_peaks").empty
    app = create_app(Settings(sources=[], database_url=url), restarted, clock=lambda: NOW.to_pydatetime())
    with app.server.test_request_context("/capacity"):
        page = capacity_page.layout()
    day_line = find(page, ids.CAPACITY_DAY).children
    assert "Tue 2026-11-17, the last completed A-share trading day" in day_line
    services = {row["service"].split("]")[0].lstrip("["): row for row in find(page, ids.CAPACITY_SERVICES).rowData}
    tuesday = days[-1]
    assert services["orders"]["cpu_peak"] == f"{busy_cpu('orders-1', tuesday) * 100:.0f}%"
    assert services["quotes"]["cpu_peak"] == f"{busy_cpu('quotes-1', tuesday) * 100:.0f}%"
    assert services["orders"]["instances"] == 2
    assert services["orders"]["trend"] == "+15.0 pt"  # 0.5 points a day, over the trading days of 30
    assert services["quotes"]["trend"] == "+6.0 pt"
