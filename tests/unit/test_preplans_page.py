"""/preplans on the demo app: the library shows while the history database does not answer, the overview reads the
ticks again only when the frames it reads change or the minute turns, and a version is in force from midnight of
its effective day in the display zone."""

from datetime import UTC, datetime

import pandas as pd
import pytest
import sqlalchemy as sa

from dashboard.command import checklist, preplans
from dashboard.core.memo import Memo
from layouts.pages import preplans as page
from tests.conftest import free_port
from tests.demo_app import polled_demo_app
from tests.unit.test_preplans import plan_text

NOW = datetime(2026, 11, 20, 1, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def app():
    return polled_demo_app(clock=lambda: NOW)


@pytest.fixture
def ctx(app):
    context = app.server.extensions["opscenter"]
    saved = dict(vars(context))
    context.memo = Memo()
    with app.server.app_context():
        yield context
    vars(context).clear()
    vars(context).update(saved)


def text_of(node) -> str:
    if isinstance(node, str | int | float):
        return str(node)
    if isinstance(node, list | tuple):
        return " ".join(text_of(n) for n in node)
    children = getattr(node, "children", None)
    return "" if children is None else text_of(children)


def test_the_library_shows_while_the_history_database_does_not_answer(ctx):
    ctx.history = sa.create_engine(f"postgresql+psycopg2://opscenter@127.0.0.1:{free_port()}/opscenter")
    shown = text_of(page.layout(plan="order-gateway-down"))
    assert "Order gateway down or rejecting orders" in shown and "Changes from version 1" in shown
    assert shown.count("last use unknown (database not answering)") == len({p.id for p in ctx.preplans.plans})
    refreshed = text_of(page.body({"lang": "zh", "query_lang": "zh", "plan": None, "version": None}))
    assert "最近使用未知（数据库无响应）" in refreshed


def test_another_sources_poll_does_not_read_the_ticks_again(ctx, monkeypatch):
    reads = []
    monkeypatch.setattr(
        checklist, "last_uses", lambda engine: reads.append(engine) or pd.DataFrame(columns=checklist.USE_COLUMNS)
    )
    versions = ctx.store.versions()
    page.overview(versions)
    page.overview({**versions, "opscenter": versions.get("opscenter", 0) + 1, "elsewhere": 7})
    assert len(reads) == 1
    page.overview({**versions, "demo": versions["demo"] + 1})  # the demo delivers services and chaos runs
    assert len(reads) == 2
    ctx.clock = lambda: NOW.replace(minute=31)
    page.overview({**versions, "demo": versions["demo"] + 1})
    assert len(reads) == 3


def test_a_version_is_in_force_from_midnight_in_the_display_zone_and_one_not_yet_says_so(ctx, tmp_path):
    (tmp_path / "v1.yaml").write_text(plan_text(1, "2026-01-05"))
    (tmp_path / "v2.yaml").write_text(plan_text(2, "2026-11-01"))
    (tmp_path / "later.yaml").write_text(plan_text(1, "2027-01-04").replace("gateway-down", "later"))
    ctx.preplans = preplans.load(tmp_path, ctx.settings.display_tz)
    ctx.clock = lambda: datetime(2026, 10, 31, 18, 0, tzinfo=UTC)  # 02:00 on 1 November in Shanghai
    detail = text_of(page.detail_section(ctx.preplans, "gateway-down", None, None, "en"))
    assert "v2" in detail and "in force · effective 2026-11-01" in detail
    later = page.detail_section(ctx.preplans, "later", None, None, "en")
    assert "not yet in force · effective 2027-01-04" in text_of(later)
    assert "v1 · in force" not in text_of(later)  # the version chooser marks none
    listed = page.list_section(page.overview(), ctx.preplans, None, None, "Asia/Shanghai", "en")
    rows = {r.to_plotly_json()["props"]["data-preplan"]: text_of(r) for r in listed.children[-1].children[1].children}
    assert "not yet in force" in rows["later"] and "not yet" not in rows["gateway-down"]
