"""Which sources stand behind a panel, whether it is stale, and whether anything configured will fill it."""

import threading
from datetime import UTC, datetime

import pandas as pd
import pytest

from dashboard.app import create_app
from dashboard.core.derived import DerivedFrames
from dashboard.core.freshness import freshness
from dashboard.core.poller import Poller
from dashboard.core.settings import parse
from dashboard.core.store import open_store
from datasources import registry
from datasources.base import Source, SourceError
from layouts.pages import wall

NOW = datetime(2026, 11, 18, 2, 0, tzinfo=UTC)


def _status(frames, ok=True, minutes_ago=1, interval_s=60):
    success = (pd.Timestamp(NOW) - pd.Timedelta(minutes=minutes_ago)).isoformat()
    return {"ok": ok, "last_success": success, "interval_s": interval_s, "frames": frames}


STATUSES = {
    "metrics": _status(["services", "service_metrics"]),
    "itsm": {
        **_status(["incidents", "changes"], ok=False, minutes_ago=20),
        "failing_since": (pd.Timestamp(NOW) - pd.Timedelta(minutes=18)).isoformat(),
    },
    "itsm-b": _status(["incidents"], minutes_ago=10, interval_s=60),  # older than three intervals
    "chaos": _status([]),  # never delivered anything
    "alerts": {
        "ok": False,
        "last_success": None,
        "interval_s": 60,
        "frames": [],
        "offers": ["alerts"],
        "failing_since": (pd.Timestamp(NOW) - pd.Timedelta(minutes=7)).isoformat(),
    },
}
OFFERED = frozenset({"services", "service_metrics", "incidents", "changes", "chaos_runs"})


def test_a_panel_depends_on_the_sources_that_delivered_its_frames():
    fresh = freshness(["service_metrics"], STATUSES, NOW, OFFERED)
    assert fresh.sources == ("metrics",) and not fresh.is_stale and fresh.since is None
    assert fresh.version_key({"metrics": 7, "config": 2, "itsm": 3}) == [7, 2]


def test_a_panel_is_stale_since_the_oldest_success_of_its_stale_sources():
    fresh = freshness(["incidents"], STATUSES, NOW, OFFERED)
    assert fresh.sources == ("itsm", "itsm-b") and fresh.stale == ("itsm", "itsm-b") and fresh.is_stale
    assert fresh.since == pd.Timestamp(NOW) - pd.Timedelta(minutes=20)


def test_a_panel_nobody_delivered_is_stale_without_a_time():
    fresh = freshness(["chaos_runs"], STATUSES, NOW, OFFERED)
    assert fresh.sources == () and fresh.is_stale and fresh.since is None


def test_a_panel_waits_only_for_frames_a_configured_source_offers():
    assert freshness(["chaos_runs"], STATUSES, NOW, OFFERED).waiting
    unconfigured = freshness(["spans"], STATUSES, NOW, OFFERED)
    assert not unconfigured.configured and not unconfigured.waiting and unconfigured.is_stale
    delivered = freshness(["incidents"], STATUSES, NOW, frozenset())  # a source no longer offering still counts
    assert delivered.configured and not delivered.waiting


def test_a_panel_whose_sources_failed_every_poll_names_them_instead_of_waiting():
    fresh = freshness(["alerts"], STATUSES, NOW, OFFERED | {"alerts"})
    assert fresh.failing == ("alerts",) and not fresh.waiting and fresh.is_stale
    assert fresh.unknown == ("alerts",) and fresh.failing_since == pd.Timestamp(NOW) - pd.Timedelta(minutes=7)
    assert freshness(["incidents"], STATUSES, NOW, OFFERED).failing == ()  # delivered before: stale, not failing


def test_a_panel_whose_source_delivered_then_failed_is_unknown_since_the_first_failure():
    fresh = freshness(["incidents"], STATUSES, NOW, OFFERED)
    assert fresh.broken == ("itsm",) and fresh.unknown == ("itsm",)  # itsm-b is late, not failing
    assert fresh.failing_since == pd.Timestamp(NOW) - pd.Timedelta(minutes=18)
    healthy = freshness(["service_metrics"], STATUSES, NOW, OFFERED)
    assert healthy.unknown == () and healthy.failing_since is None


METRICS_ONLY = """
sources:
  - {kind: demo, name: metrics, interval_s: 60, frames: [services, chains, service_metrics]}
"""
WITH_ITSM = METRICS_ONLY + "  - {kind: demo, name: itsm, interval_s: 60, frames: [incidents, changes]}\n"


def _children(component) -> list:
    children = getattr(component, "children", None)
    return [c for c in (children if isinstance(children, (list, tuple)) else [children]) if c is not None]


def _text(component) -> str:
    """Every string in a component tree, joined."""
    return component if isinstance(component, str) else " ".join(_text(c) for c in _children(component))


def _panels(component) -> dict[str, str]:
    """The text of every wall panel ({"type": "oc-panel", "panel": name}) in a component tree."""
    found = {}
    if isinstance(getattr(component, "id", None), dict) and component.id.get("type") == "oc-panel":
        found[component.id["panel"]] = _text(component)
    for child in _children(component):
        found.update(_panels(child))
    return found


def _wall(config: str, lang: str) -> dict[str, str]:
    """The wall's panels as text, after the first source alone has polled."""
    settings = parse(config)
    store = open_store(None, settings.deployment, settings.source_names)
    first = registry.build(settings.sources[0])
    Poller([first], store).poll(first)
    with create_app(settings, store).server.test_request_context("/wall"):
        return _panels(wall.layout(lang=lang))


@pytest.mark.parametrize(
    "lang, waiting, unconfigured",
    [("en", "waiting for data", "no source configured"), ("zh", "等待数据", "未配置数据源")],
)
def test_the_wall_tells_waiting_from_no_source_configured(lang, waiting, unconfigured):
    alone = _wall(METRICS_ONLY, lang)
    assert unconfigured in alone["incidents"] and waiting not in alone["incidents"]
    assert unconfigured in alone["kpi.mttr"] and unconfigured in alone["chaos"]
    assert unconfigured not in alone["chains"] and waiting not in alone["chains"]
    pending = _wall(WITH_ITSM, lang)
    assert waiting in pending["incidents"] and waiting in pending["kpi.changes"]
    assert unconfigured in pending["chaos"]


class Down(Source):
    """An ITSM source whose every poll fails."""

    kind = "down"
    polled = ("incidents", "changes")

    def fetch(self, now):
        raise SourceError("connection refused")


@pytest.mark.parametrize("lang, failing", [("en", "unknown: itsm failing since "), ("zh", "未知：itsm 自 ")])
def test_the_wall_names_a_source_that_failed_from_its_first_poll(lang, failing):
    settings = parse(WITH_ITSM)
    store = open_store(None, settings.deployment, settings.source_names)
    metrics = registry.build(settings.sources[0])
    down = Down(name="itsm", interval_s=60)
    Poller([metrics, down], store).tick()
    with create_app(settings, store).server.test_request_context("/wall"):
        panels = _panels(wall.layout(lang=lang))
    assert failing in panels["incidents"] and failing in panels["kpi.changes"]
    assert failing not in panels["chaos"]
    title = panels["incidents"].split(failing)[0].split()
    assert title[-1] == "?" and "0" not in title  # the count is not known, so it is no zero
    assert "n = 0" not in panels["kpi.changes"] and "样本 0" not in panels["kpi.changes"]


class HeldHistory(Source):
    """The demo's metrics, whose history read waits until ``released``."""

    kind = "held"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.released = threading.Event()
        self.demo = registry.build(parse(METRICS_ONLY).sources[0])

    def fetch(self, now):
        return self.demo.fetch(now)

    def history(self, start, end, step_s=None):
        assert self.released.wait(60), "never released"
        return self.demo.history(start, end, step_s)


@pytest.mark.parametrize("lang, learning", [("en", "anomalies: learning since "), ("zh", "异常检测：自 ")])
def test_the_wall_says_a_first_model_is_being_learnt_rather_than_failing(lang, learning):
    settings = parse(METRICS_ONLY)
    store = open_store(None, settings.deployment, settings.source_names)
    source = HeldHistory(name="metrics", interval_s=60)
    derived = DerivedFrames(store, history_days=1, health=settings.health, first_wait_s=0)
    Poller([source], store, derived=derived).poll(source)
    assert store.status("derived:metrics")["pending"] == "learning"
    with create_app(settings, store).server.test_request_context("/wall"):
        chains = _panels(wall.layout(lang=lang))["chains"]
    source.released.set()
    derived.settle()
    assert learning in chains and "failing" not in chains and "失败" not in chains
