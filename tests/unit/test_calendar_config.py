"""The configured calendar: the markets shown, and closures re-read from the config file at most once a minute."""

from datetime import datetime
from zoneinfo import ZoneInfo

from dashboard.analytics.calendar import Session
from dashboard.core.calendar_config import LiveCalendar
from dashboard.core.settings import load

CONFIG = """\
sources:
  - kind: demo
    name: demo
"""
CLOSURE = """\
calendar:
  futures_night: {enabled: true}
  closures:
    - {market: hk, from: "2026-09-16 09:00", to: "2026-09-16 16:10", reason: Typhoon signal No. 8}
"""
TEN_AM = datetime(2026, 9, 16, 10, 0, tzinfo=ZoneInfo("Asia/Hong_Kong"))


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_closure_written_into_the_config_counts_within_a_minute(tmp_path):
    path = tmp_path / "opscenter.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    ticks = Ticks()
    live = LiveCalendar(load(path), monotonic=ticks)
    assert live.sessions(TEN_AM) == {"cn": Session("morning"), "hk": Session("morning")}

    path.write_text(CONFIG + CLOSURE, encoding="utf-8")
    ticks.now += 59
    assert live.sessions(TEN_AM)["hk"] == Session("morning")  # read at most once a minute
    ticks.now += 1
    assert live.sessions(TEN_AM) == {
        "cn": Session("morning"),
        "hk": Session("closed", "closure", "Typhoon signal No. 8"),
        "futures": Session("closed"),
    }


def test_a_broken_calendar_section_keeps_the_closures_read_before(tmp_path):
    path = tmp_path / "opscenter.yaml"
    path.write_text(CONFIG + CLOSURE, encoding="utf-8")
    ticks = Ticks()
    live = LiveCalendar(load(path), monotonic=ticks)
    path.write_text(CONFIG + CLOSURE.replace("market: hk", "market: nyse"), encoding="utf-8")
    ticks.now += 60
    assert live.sessions(TEN_AM)["hk"] == Session("closed", "closure", "Typhoon signal No. 8")
