"""The wall's views: what the poller derives is what the wall computed from the frames, and the wall
computes its own when the poller's are missing, behind the frames or of other health rules."""

import json
import threading
from datetime import datetime, timedelta

import pandas as pd
import pytest

from bench.viewer import WallRequests
from dashboard import formats, ids
from dashboard.analytics import business, health, kpis, logrates, rollup, sites, slo, wallframes, wallmodel, wallview
from dashboard.analytics.incidents import with_acknowledgements, without_ticket_copies
from dashboard.app import create_app
from dashboard.command import oversight
from dashboard.core.derived import DerivedFrames
from dashboard.core.poller import Poller
from dashboard.core.settings import load
from dashboard.core.store import DERIVED_SOURCE, FrameStore, open_store
from datasources import registry
from datasources.base import CONTRACTS, Column
from datasources.demo import episodes
from layouts.pages import wall

DAY = pd.Timestamp("2026-11-18 08:00", tz="UTC")
DRAINED = [e for e in episodes(DAY - pd.Timedelta(days=1), DAY) if e.kind == "site_degradation"][-1]
MOMENT = (DRAINED.end - pd.Timedelta(minutes=2)).to_pydatetime()  # a site drained, alerts firing


class Estate:
    """The demo config polled once at ``MOMENT``, with the derived step (and the wall's views) or without."""

    def __init__(self, derived: bool = True, history=None):
        self.settings = load()
        self.store = open_store(None, self.settings.deployment, self.settings.source_names)
        self.now = MOMENT
        step = DerivedFrames(self.store, history, history_days=1, health=self.settings.health) if derived else None
        self.poller = Poller(
            [registry.build(spec) for spec in self.settings.sources], self.store, clock=lambda: self.now, derived=step
        )
        self.poller.publish_config(self.settings.chains)
        self.poll()

    def poll(self) -> None:
        for source in self.poller.sources:
            self.poller.poll(source)

    def app(self, settings=None):
        return create_app(settings or self.settings, self.store)


@pytest.fixture(scope="module")
def estate() -> Estate:
    return Estate()


def _computed_before(settings, read) -> dict:
    """What the wall computed from the frames before the poller did: health, roll-up, sites."""
    metrics, resources, instances = read("service_metrics"), read("resource_metrics"), read("instances")
    evaluated = health.evaluate(read("services"), metrics, settings.health)
    states = sites.site_states(instances, resources)
    rolled = rollup.services(
        evaluated,
        read("alerts"),
        read("anomalies"),
        resources,
        instances,
        states,
        settings.health["amber_at"],
        metrics["ts"].max(),
    )
    chain_sites = sites.chain_sites(read("chains"), instances, resources)
    return {"evaluated": evaluated, "rolled": rolled, "site_states": states, "chain_sites": chain_sites}


def test_the_poller_views_are_what_the_wall_computed_from_the_frames(estate):
    read, before = estate.store.frame, _computed_before(estate.settings, estate.store.frame)
    assert estate.store.status(DERIVED_SOURCE)["ok"]
    reasons = wallframes.reasons(read("status_reasons"))
    for column in ("service", "status", "metric"):
        assert read("service_status")[column].tolist() == before["rolled"][column].tolist(), column
    assert [reasons.get(s, []) for s in read("service_status")["service"]] == before["rolled"]["reasons"].tolist()
    kinds = {r.kind for found in reasons.values() for r in found}
    assert "site_drained" in kinds and kinds & {"alert_critical", "alert_warning"}, kinds  # reasons worth comparing
    for name, computed in (
        ("service_health", before["evaluated"]),
        ("site_states", before["site_states"]),
        ("chain_sites", before["chain_sites"]),
    ):
        assert len(read(name)) > 0, name
        pd.testing.assert_frame_equal(read(name), computed[read(name).columns], check_dtype=False, obj=name)
    assert (read("site_states").set_index("site").loc[DRAINED.site, "kind"]) == "drained"


def _refuse(*_args):
    raise AssertionError("the wall computed views the poller had derived")


@pytest.mark.parametrize(
    "lang, drained", [("en", f"site {DRAINED.site} drained"), ("zh", f"站点 {DRAINED.site} 已切流")]
)
def test_the_wall_formats_the_poller_views_in_its_language_without_computing_them(estate, monkeypatch, lang, drained):
    monkeypatch.setattr(wallframes, "compute", _refuse)
    with estate.app().server.test_request_context("/wall"):
        page = wall.layout(lang=lang)
    model = next(c for c in _components(page) if getattr(c, "id", None) == ids.WALL_MODEL).data
    read = estate.store.frame
    statuses = dict(zip(read("service_status")["service"], read("service_status")["status"]))
    order = wallview.tile_order(wallview.structure(read("chains"), read("services")))
    assert [row[0] for row in model["rows"]] == [statuses[s] for s in order]
    assert any(drained in reason for row in model["rows"] for reason in row[5])


def _components(component):
    yield component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, (list, tuple)) else [children]:
        if child is not None and not isinstance(child, str):
            yield from _components(child)


class Counted:
    """``wallframes.compute``, counting its calls."""

    def __init__(self):
        self.calls, self.compute = 0, wallframes.compute

    def __call__(self, *args):
        self.calls += 1
        return self.compute(*args)


def _missing() -> tuple[Estate, object]:
    estate = Estate(derived=False)
    return estate, estate.settings


def _behind() -> tuple[Estate, object]:
    estate = Estate()
    estate.poller.derived, estate.now = None, MOMENT + timedelta(minutes=1)  # a poll the derived step missed
    estate.poll()
    return estate, estate.settings


def _other_rules() -> tuple[Estate, object]:
    estate = Estate()
    settings = load()
    settings.health["amber_at"] = 0.5
    return estate, settings


@pytest.mark.parametrize("case", [_missing, _behind, _other_rules], ids=["missing", "behind", "other rules"])
def test_the_wall_computes_its_own_views_when_the_poller_has_none_for_its_frames(case, monkeypatch):
    estate, settings = case()
    counted = Counted()
    monkeypatch.setattr(wallframes, "compute", counted)
    with estate.app(settings).server.test_request_context("/wall"):
        refresh = wall.Refresh("en")
        rows = json.loads(refresh.model()["rows"][0])
        assert counted.calls == 1
        order = wallview.tile_order(refresh.structure())
        expected = _computed_before(settings, refresh.frame)["rolled"].set_index("service").reindex(order)
    assert [row[0] for row in rows] == expected["status"].tolist()
    assert [row[5] for row in rows] == [
        [wallmodel.reason_text(r, "en") for r in found] for found in expected["reasons"]
    ]
    assert any(row[5] for row in rows)


def test_views_a_poller_stored_with_other_columns_are_not_the_walls(monkeypatch):
    estate = Estate()  # its poller stored the views with these columns; the worker below counts services in floats
    changed = tuple(Column(c.name, "float") if c.name == "services" else c for c in CONTRACTS["site_states"])
    monkeypatch.setitem(CONTRACTS, "site_states", changed)
    counted = Counted()
    monkeypatch.setattr(wallframes, "compute", counted)
    with estate.app().server.test_request_context("/wall"):
        refresh = wall.Refresh("en")
        refresh.views()
    assert counted.calls == 1 and refresh.versions == estate.store.versions()


class Clock(datetime):
    """``datetime`` whose ``now`` is ``Clock.at``: the wall's moment, pinned."""

    at = MOMENT

    @classmethod
    def now(cls, tz=None):
        return cls.at.astimezone(tz)


@pytest.mark.parametrize("derivation_ok", [True, False], ids=["derivation under way", "derivation failed"])
def test_while_a_poll_waits_for_its_derivation_the_wall_draws_the_frames_before_it(derivation_ok, monkeypatch):
    estate = Estate()
    before = estate.store.versions()
    estate.poller.derived, estate.now = None, MOMENT + timedelta(seconds=20)  # frames written, views not yet
    estate.poll()
    if not derivation_ok:
        estate.store.set_status(DERIVED_SOURCE, {**estate.store.status(DERIVED_SOURCE), "ok": False})
    counted = Counted()
    monkeypatch.setattr(wallframes, "compute", counted)
    monkeypatch.setattr(wall, "datetime", Clock)
    monkeypatch.setattr(Clock, "at", MOMENT + timedelta(seconds=30))
    with estate.app().server.test_request_context("/wall"):
        refresh = wall.Refresh("en")
        refresh.views()
    drawn = {s: refresh.versions[s] for s in before if s != DERIVED_SOURCE}
    if derivation_ok:  # at most one derivation behind: its views, of the frames they come from
        assert counted.calls == 0 and drawn == {s: v for s, v in before.items() if s != DERIVED_SOURCE}
    else:  # the views may never catch up: computed here from the newest frames
        assert counted.calls == 1 and drawn == {s: estate.store.versions()[s] for s in drawn}


def test_the_poller_views_give_the_sparklines_log_rates_and_availability_the_frames_give(estate):
    read = estate.store.frame
    order = wallview.tile_order(wallview.structure(read("chains"), read("services")))
    metrics = read("service_metrics")
    recent = metrics[metrics["ts"] > metrics["ts"].max() - pd.Timedelta(minutes=wallview.SPARK_MINUTES)]
    grid = recent.pivot_table(index="ts", columns="service", values="latency_p95_ms", aggfunc="mean", dropna=False)
    grid = grid.reindex(columns=order)
    spark = wallview.spark_points(read("spark"), None)
    assert spark["t"] == pd.DatetimeIndex(grid.index).as_unit("ms").asi8.tolist()
    assert spark["v"] == [[None if v != v else float(f"{v:.3g}") for v in row] for row in grid.to_numpy().tolist()]
    newest = wallview.spark_points(read("spark"), spark["t"][-2])
    assert newest["t"] == spark["t"][-1:] and newest["v"] == spark["v"][-1:]

    rates = logrates.errors_per_minute(read("log_rates"))
    logs = json.loads(wallmodel.in_language(read("wall_model"), "en")["logs"][0])
    assert len(rates) and logs == [f"{rates[s]:,.1f}" if s in rates.index else "" for s in order]

    since = kpis.start_of_day(pd.Timestamp(MOMENT), "Asia/Shanghai")
    today = metrics[metrics["ts"] >= since]
    expected = 1 - (today["requests_per_s"] * today["error_ratio"].fillna(0.0)).sum() / today["requests_per_s"].sum()
    value, count = kpis.availability_of(read("request_totals"), since)
    assert count == len(today) > 0 and value == pytest.approx(expected, abs=1e-12)


LARGE = ("service_metrics", "resource_metrics", "log_rates")
LISTED = ("services", "chains", "alerts", "incidents", "incident_command", "changes", "chaos_runs")  # in views


class Reads:
    """A frame store backend's reads, by key."""

    def __init__(self, cache, monkeypatch):
        self.trips: list[tuple[str, ...]] = []
        get, get_many = cache.get, cache.get_many
        monkeypatch.setattr(cache, "get", lambda key: self.trips.append((key,)) or get(key))
        monkeypatch.setattr(cache, "get_many", lambda *keys: self.trips.append(keys) or get_many(*keys))

    def frames(self, keys: tuple[str, ...] | None = None) -> set[str]:
        """The frame names of the frame keys read (``...:frame:<source>:<name>[:<part>]``, a source may hold a
        colon), of all reads or of ``keys``."""
        keys = [k for trip in self.trips for k in trip] if keys is None else keys
        parts = (key.split(":frame:", 1)[1].split(":") for key in keys if ":frame:" in key)
        return {next(p for p in names if p in CONTRACTS) for names in parts}


def test_a_worker_refreshing_the_wall_after_a_poll_decodes_none_of_the_large_frames(monkeypatch):
    estate = Estate()
    worker = FrameStore(estate.store.cache, estate.settings.deployment, estate.settings.source_names)
    app = create_app(estate.settings, worker)
    with app.server.test_request_context("/wall"):
        requests = WallRequests(wall.layout(), app.callback_map)
    estate.now += timedelta(minutes=1)
    estate.poll()
    reads = Reads(estate.store.cache, monkeypatch)
    response = app.server.test_client().post(
        "/_dash-update-component", json=requests.refresh({"frames": worker.versions(), "stale": []}, requests.keys)
    )
    assert response.status_code == 200
    assert {"view_basis", "spark", "wall_incidents", "kpi_events"} <= reads.frames()  # read anew
    assert not reads.frames() & {"service_status", "status_reasons", "slo_status"}  # in the model
    trip = next(keys for keys in reads.trips if "spark" in reads.frames(keys))
    assert set(wall.READS) <= reads.frames(trip)  # in one round trip
    listed = next(keys for keys in reads.trips if "wall_incidents" in reads.frames(keys))
    assert set(wall.LISTED) <= reads.frames(listed)  # and the lists' rows in another
    assert not reads.frames() & {*LARGE, *LISTED}
    with app.server.test_request_context("/wall"):
        assert wallframes.current(
            worker.frame("view_basis"), worker.versions(), estate.settings.source_names, estate.settings.health
        )


def test_a_worker_reads_the_walls_views_in_one_round_trip(monkeypatch):
    estate = Estate()
    worker = FrameStore(estate.store.cache, estate.settings.deployment, estate.settings.source_names)
    estate.now += timedelta(minutes=1)
    estate.poll()
    calls: list[tuple[str, ...]] = []  # each round trip's keys (the in-process cache's get_many calls its get)
    get, get_many, many = estate.store.cache.get, estate.store.cache.get_many, threading.local()

    def one_trip(*keys):
        calls.append(keys)
        many.within = True
        try:
            return get_many(*keys)
        finally:
            many.within = False

    def single(key):
        if not getattr(many, "within", False):
            calls.append((key,))
        return get(key)

    monkeypatch.setattr(estate.store.cache, "get", single)
    monkeypatch.setattr(estate.store.cache, "get_many", one_trip)
    app = create_app(estate.settings, worker)
    with app.server.test_request_context("/wall"):
        wall.Refresh("en").views()
    view_keys = [c for c in calls if any(key.split(":frame:")[-1].split(":")[-1] in wallframes.VIEWS for key in c)]
    assert len(view_keys) == 1 and len(view_keys[0]) >= len(wallframes.VIEWS)


@pytest.mark.parametrize("forged", ["9" * 5000, 10**40, -1, True, 1.5e12, [1]], ids=repr)
def test_a_forged_sparkline_time_in_the_keys_redraws_the_hour(estate, forged):
    app = estate.app()
    with app.server.test_request_context("/wall"):
        requests = WallRequests(wall.layout(), app.callback_map)
    keys = {**requests.keys, "structure": requests.keys["structure"], "spark_ms": forged}
    response = app.server.test_client().post(
        "/_dash-update-component",
        json=requests.refresh({"frames": {**estate.store.versions(), "demo": 1}, "stale": []}, keys),
    )
    assert response.status_code == 200
    spark = json.loads(response.data)["response"][ids.WALL_MODEL]["data"]["operations"]
    assert any(op["location"] == ["spark"] and op["params"]["value"]["reset"] for op in spark)


def test_the_tile_model_from_the_views_is_the_one_computed_from_the_frames(estate):
    with estate.app().server.test_request_context("/wall"):
        refresh = wall.Refresh("en")
        layout = wallview.structure(refresh.frame("chains"), refresh.frame("services"), "en")
        model = {part: value for part, (value, _) in wall._tile_parts(refresh).items()}
        before = _computed_before(estate.settings, refresh.frame)
        order = wallview.tile_order(layout)
        figures = before["evaluated"].set_index("service").reindex(order)
        states = before["rolled"].set_index("service").reindex(order)
        rows = []
        for status, metric, reasons, rate, p95, errors in zip(
            states["status"], states["metric"], states["reasons"], *(figures[c] for c in FIGURES)
        ):
            latency, error = formats.fmt_ms(p95), formats.fmt_pct(errors)
            main, other = (error, latency) if metric == "errors" else (latency, error)
            rows.append(
                [status, main, metric, formats.fmt_rate(rate), other, [wallmodel.reason_text(r, "en") for r in reasons]]
            )
        chains = rollup.chains(layout, before["rolled"])
        head = rollup.header(chains, before["rolled"], layout, "ok")
    assert model["rows"] == rows and any(row[5] for row in rows)
    assert [c[0] for c in model["chains"]] == [c["status"] for c in chains]
    assert [bool(c[1]) for c in model["chains"]] == [bool(c["worst"]) for c in chains]
    assert any(c["worst"] for c in chains) and len(chains) == len(layout)
    assert model["header"]["status"] == head["status"] and str(head["attention"]) in model["header"]["text"]
    badges = slo.badges(refresh.frame("slo_status"))  # derived with the model
    assert [b[0] for b in model["budgets"]] == [badges.get(c["chain"], ("nodata",))[0] for c in layout]
    assert any(b[1] for b in model["budgets"])


FIGURES = ("requests_per_s", "latency_p95_ms", "error_ratio")


def _ids(frame: pd.DataFrame, column: str) -> list:
    return frame[column].tolist()


def test_the_poller_lists_are_those_the_wall_selected_from_the_frames(estate):
    read = estate.store.frame
    incidents, changes = read("incidents"), read("changes")
    listed = read("wall_incidents")
    assert len(listed) and _ids(listed, "incident_id") == _ids(wallview.active_incidents(incidents), "incident_id")
    in_banner = listed[listed["banner"] >= 0].sort_values("banner")
    assert _ids(in_banner, "incident_id") == _ids(wallview.major_incidents(incidents), "incident_id")
    alarm = wallmodel.in_language(read("wall_model"), "en")[wallmodel.ALARM][0]
    assert json.loads(alarm) == wallview.incident_status(incidents)
    alerts = read("wall_alerts")
    assert len(alerts) and _ids(alerts, "alert_id") == _ids(rollup.firing_alerts(read("alerts")), "alert_id")
    runs = read("wall_chaos")
    expected_runs = wallview.latest_chaos_runs(read("chaos_runs"), wallframes.CHAOS_RUNS)
    assert len(runs) and _ids(runs, "run_id") == _ids(expected_runs, "run_id")
    listed_changes = read("wall_changes")
    running = listed_changes[listed_changes["running"]]
    assert _ids(running, "change_id") == _ids(wallview.changes_in_progress(changes), "change_id")
    scheduled = listed_changes[~listed_changes["running"]]
    assert len(scheduled)
    for now in [pd.Timestamp(MOMENT), *scheduled["planned_start"].dropna()]:  # each scheduled change in turn next
        expected = wallview.next_change(changes, now)
        first = scheduled[scheduled["planned_start"] >= now].head(1)
        assert _ids(first, "change_id") == ([] if expected is None else [expected["change_id"]])
    for lang in ("en", "zh"):
        model = wallmodel.in_language(read("wall_model"), lang)
        structure, names = (json.loads(model[part][0]) for part in (wallmodel.STRUCTURE, wallmodel.NAMES))
        assert structure == wallview.structure(read("chains"), read("services"), lang)
        assert names == wallview.display_names(read("services"), lang)


def test_the_commander_and_banner_of_the_incident_list_are_those_of_the_incident_command():
    opened = pd.Timestamp("2026-11-18 07:00", tz="UTC")
    incidents = pd.DataFrame(
        {
            "source": ["itsm"] * 4,
            "incident_id": ["I1", "I2", "I3", "I4"],
            "priority": [2, 1, 1, 4],
            "state": ["new", "in_progress", "new", "new"],
            "opened_at": [opened + pd.Timedelta(minutes=m) for m in (0, 5, 10, 15)],
            "acknowledged_at": [pd.NaT, opened, pd.NaT, pd.NaT],
        }
    )
    command = pd.DataFrame(
        {
            "source": ["itsm"],
            "incident_id": ["I2"],
            "commander": ["wang"],
            "updated_at": [opened + pd.Timedelta(hours=1)],
        }
    )
    listed = wallframes.incident_list(incidents, command)
    watched = oversight.watched(wallview.active_incidents(incidents), command, opened)
    assert listed["incident_id"].tolist() == ["I2", "I3", "I1", "I4"]
    assert listed["banner"].tolist() == [1, 0, -1, -1]  # the unacknowledged P1 first
    for row in listed.itertuples():
        if row.priority > 2:
            assert row.commander is None and pd.isna(row.updated_at)
        else:
            assert (row.commander, row.updated_at) == tuple(watched.loc[(row.source, row.incident_id)].iloc[:2])
    assert listed.loc[listed["incident_id"] == "I2", "commander"].item() == "wang"


def _mean(durations: pd.Series):
    return (durations.mean() if len(durations) else None), len(durations)


def _share(hits: pd.Series):
    return (float(hits.mean()) if len(hits) else None), len(hits)


@pytest.mark.parametrize("days", [0, 3, 12])
def test_the_key_figures_from_the_poller_events_are_those_of_the_frames_at_any_moment(estate, days):
    """At the poll and days later (the window moves, the events stay): the figures as the wall computed them
    from the frames, with opscenter's acknowledgements counted where earlier."""
    read, now = estate.store.frame, pd.Timestamp(MOMENT) + pd.Timedelta(days=days)
    incidents, changes, runs = read("incidents"), read("changes"), read("chaos_runs")
    acked_rows = incidents[incidents["acknowledged_at"].notna()].sort_values("opened_at")
    ours = acked_rows[["source", "incident_id", "acknowledged_at"]].tail(3)  # the latest: in every window here
    ours = ours.assign(acknowledged_at=ours["acknowledged_at"] - pd.Timedelta(minutes=7))  # earlier than theirs
    views = wallframes.compute(read, estate.settings.health, ours)
    figures = kpis.figures(views["kpi_events"], now)

    def window(times):
        return (times > now - kpis.WINDOW) & (times <= now)

    acked = with_acknowledgements(without_ticket_copies(incidents), ours)
    kept = acked[window(acked["opened_at"]) & acked["acknowledged_at"].notna() & (acked["state"] != "cancelled")]
    resolved = incidents[window(incidents["resolved_at"]) & (incidents["state"] != "cancelled")]
    judged = changes[window(changes["actual_end"]) & changes["outcome"].isin(kpis.KNOWN_OUTCOMES)]
    finished = runs[window(runs["ended_at"]) & runs["status"].isin(kpis.FINISHED_RUNS)]
    assert figures == {
        "mtta": _mean(kept["acknowledged_at"] - kept["opened_at"]),
        "mttr": _mean(resolved["resolved_at"] - resolved["opened_at"]),
        "changes": _share(judged["outcome"] == "success"),
        "chaos": _share(finished["status"] == "passed"),
    }
    assert figures["mtta"][1] and figures["mttr"][1] and figures["changes"][1] and figures["chaos"][1]
    assert figures["mtta"] != kpis.figures(wallframes.compute(read, estate.settings.health)["kpi_events"], now)["mtta"]


class AwayHistory:
    """A history database that is not there."""

    @property
    def engine(self):
        raise ConnectionError("database away")


def _mtta_of(store, incident_id: str) -> pd.Timedelta:
    """The time to acknowledge the derived MTTA counts for one incident (its event's value)."""
    incidents, events = store.frame("incidents"), store.frame("kpi_events")
    opened = incidents.loc[incidents["incident_id"] == incident_id, "opened_at"].item()
    mtta = events[(events["figure"] == "mtta") & (events["at"] == opened)]
    return pd.Timedelta(int(mtta["value"].item()), unit="ns")


def test_the_derived_mtta_counts_opscenter_acknowledgements_and_goes_on_without_the_database(tmp_path):
    from dashboard.command import actions
    from dashboard.db.history import History

    history = History(f"sqlite:///{tmp_path / 'history.sqlite3'}")
    history.migrate()
    source = Estate(derived=False).store.frame("incidents")
    acked = source[source["acknowledged_at"].notna()].drop_duplicates("opened_at", keep=False).iloc[-1]
    ours = acked["acknowledged_at"] - pd.Timedelta(minutes=5)
    with history.engine.begin() as connection:
        actions.record(connection, acked["source"], acked["incident_id"], "acknowledge", "alice", {}, ours)
    estate = Estate(history=history)
    assert estate.store.status(DERIVED_SOURCE)["ok"]
    assert _mtta_of(estate.store, acked["incident_id"]) == ours - acked["opened_at"]
    history.close()

    away = Estate(history=AwayHistory())
    assert away.store.status(DERIVED_SOURCE)["ok"]  # the views derived all the same, from the sources alone
    assert _mtta_of(away.store, acked["incident_id"]) == acked["acknowledged_at"] - acked["opened_at"]


def test_the_chain_business_view_is_each_chains_headline_from_the_frames(estate):
    read, rules = estate.store.frame, estate.settings.health["business"]
    view = read("chain_business")
    pd.testing.assert_frame_equal(view, business.headlines(read("business_metrics"), rules), check_dtype=False)
    assert view["chain"].tolist() == ["equity-trading", "accounts"]
    closed = view.set_index("chain").loc["equity-trading"]  # after the close: the last value, judged by nobody
    assert closed["status"] == "nodata" and 0.9 < closed["value"] <= 1
    assert closed["at"].tz_convert("Asia/Shanghai").strftime("%H:%M") == "14:59"
