"""DemoSource: valid frames, determinism, trading-session load and the scripted episodes."""

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from datasources.base import (
    COMMAND_FRAMES,
    CONTRACTS,
    DERIVED_FRAMES,
    DUTY_FRAMES,
    SLO_FRAMES,
    VIEW_FRAMES,
    SourceError,
    validate,
)
from datasources.demo import DemoSource, episodes
from datasources.registry import kinds

NOW = pd.Timestamp("2026-11-18 02:05", tz="UTC")  # 10:05 Asia/Shanghai, a Wednesday
WINDOW_START = NOW - pd.Timedelta(hours=6)


def _fetch(now=NOW, **options):
    return DemoSource(name="demo", options=options).fetch(now.to_pydatetime())


@pytest.fixture(scope="module")
def frames():
    return _fetch()


def _between(frame, column, episode):
    return frame[(frame[column] >= episode.start) & (frame[column] < episode.end)]


def _last(kind):
    """The latest episode of ``kind`` that ended inside the default window."""
    return [e for e in episodes(WINDOW_START, NOW) if e.kind == kind and e.end <= NOW][-1]


def test_registered_under_demo():
    assert kinds()["demo"] is DemoSource


def test_every_frame_but_status_is_produced_and_valid(frames):
    assert set(frames) == set(CONTRACTS) - {
        "source_status",
        "log_lines",
        *DERIVED_FRAMES,
        *VIEW_FRAMES,
        *COMMAND_FRAMES,
        *DUTY_FRAMES,
        *SLO_FRAMES,
    }
    for name, frame in frames.items():
        assert len(validate(name, frame)) > 0, name


def test_estate_size(frames):
    assert frames["chains"]["chain"].nunique() >= 4
    assert len(frames["services"]) >= 25 and frames["services"]["service"].is_unique
    per_service = frames["resource_metrics"].groupby("service")["instance"].nunique()
    assert per_service.between(2, 4).all() and set(per_service.index) == set(frames["services"]["service"])
    assert set(frames["chains"]["service"]) <= set(frames["services"]["service"])
    steps = frames["chains"][frames["chains"]["chain"] == "equity-trading"].sort_values("step")
    assert steps["service"].tolist()[:3] == ["client-login", "quote-service", "pretrade-risk"]


def test_metric_grid_and_latency_order(frames):
    metrics = frames["service_metrics"]
    assert metrics.groupby("service").size().eq(360).all()
    assert (metrics["ts"].astype("int64") % 60_000_000_000 == 0).all() and metrics["ts"].max() <= NOW
    assert (
        (metrics["latency_p50_ms"] < metrics["latency_p95_ms"])
        & (metrics["latency_p95_ms"] < metrics["latency_p99_ms"])
    ).all()


def test_same_seed_and_now_give_identical_frames(frames):
    again = _fetch()
    for name in frames:
        assert_frame_equal(frames[name], again[name])


def test_overlapping_windows_agree(frames):
    later = _fetch(NOW + pd.Timedelta(minutes=47))
    keys = ["ts", "service"]
    merged = frames["service_metrics"].merge(later["service_metrics"], on=keys, suffixes=("", "_later"))
    assert len(merged) == 360 * len(frames["services"]) - 47 * len(frames["services"])
    for column in ("requests_per_s", "error_ratio", "latency_p99_ms"):
        assert (merged[column] == merged[f"{column}_later"]).all()
    shared = frames["resource_metrics"].merge(later["resource_metrics"], on=["ts", "instance"], suffixes=("", "_l"))
    assert len(shared) and (shared["cpu_ratio"] == shared["cpu_ratio_l"]).all()


def test_different_seed_changes_values(frames):
    other = _fetch(seed=7)["service_metrics"]
    assert not (other["requests_per_s"].to_numpy() == frames["service_metrics"]["requests_per_s"].to_numpy()).any()


def requests_at(local):
    """The estate's requests per second at the local Shanghai time ``local``."""
    moment = pd.Timestamp(local, tz="Asia/Shanghai").tz_convert("UTC")
    metrics = _fetch(moment, window_h=0.1)["service_metrics"]
    return metrics[metrics["ts"] == metrics["ts"].max()]["requests_per_s"].sum()


def test_load_follows_trading_sessions():
    session = requests_at("2026-11-18 10:00")
    assert session > 8 * requests_at("2026-11-18 03:00")
    assert session > 8 * requests_at("2026-11-21 10:00")  # Saturday
    assert requests_at("2026-11-18 09:31") > 1.5 * session  # the open spike


@pytest.mark.parametrize(
    "local, trading",
    [
        ("2025-09-30 10:00", True),
        ("2025-10-01 10:00", False),  # National Day
        ("2025-10-09 10:00", True),
        ("2025-10-11 10:00", False),  # a make-up working Saturday: offices work, the exchange does not
        ("2026-02-17 10:00", False),  # Spring Festival
        ("2026-02-24 10:00", True),
    ],
)
def test_exchange_holidays_carry_only_the_off_hours_baseline(local, trading):
    sunday = requests_at("2025-09-28 10:00")
    assert (requests_at(local) > 8 * sunday) == trading
    if not trading:
        assert requests_at(local) == pytest.approx(sunday, rel=0.1)


def test_saturated_instance_episode(frames):
    episode = _last("saturation")
    assert (episode.service, episode.instance) == ("pretrade-risk", "pretrade-risk-2")
    cpu = _between(frames["resource_metrics"], "ts", episode).query("service == 'pretrade-risk'")
    assert (cpu[cpu["instance"] == "pretrade-risk-2"]["cpu_ratio"] >= 0.9).all()
    assert (cpu[cpu["instance"] != "pretrade-risk-2"]["cpu_ratio"] < 0.9).all()

    latency = frames["service_metrics"].query("service == 'pretrade-risk'").set_index("ts")["latency_p95_ms"]
    inside = latency[(latency.index >= episode.start) & (latency.index < episode.end)]
    before = latency[(latency.index >= episode.start - pd.Timedelta(minutes=30)) & (latency.index < episode.start)]
    assert inside.median() > 3 * before.median()

    calls = _between(frames["calls"], "start", episode).query("service == 'pretrade-risk'")
    slowest = calls.loc[calls["duration_ms"].idxmax()]
    assert slowest["instance"] == "pretrade-risk-2"
    trace = DemoSource(name="demo").spans(slowest["trace_id"])
    children = trace.set_index("parent_id")["duration_ms"]
    self_ms = trace["duration_ms"] - trace["span_id"].map(children).fillna(0.0)
    top = trace.loc[self_ms.idxmax()]
    assert (top["service"], top["instance"]) == ("pretrade-risk", "pretrade-risk-2")

    alert = frames["alerts"].set_index("alert_id").loc[episode.alert_id]
    assert (alert["name"], alert["service"], alert["state"]) == ("HighLatency", "pretrade-risk", "resolved")
    assert episode.start <= alert["starts_at"] < episode.end < alert["ends_at"]


def test_trace_shape_matches_calls(frames):
    spans, calls = frames["spans"], frames["calls"]
    assert spans["trace_id"].isin(calls["trace_id"]).all() and 0 < spans["trace_id"].nunique() <= 200
    assert calls["trace_id"].str.fullmatch("[0-9a-f]{32}").all()
    assert spans["span_id"].str.fullmatch("[0-9a-f]{16}").all()
    trace_id = spans["trace_id"].iloc[0]
    trace = DemoSource(name="demo").spans(trace_id)
    assert_frame_equal(trace, spans[spans["trace_id"] == trace_id].reset_index(drop=True))
    assert trace["parent_id"].isna().sum() == 1
    parents = trace.set_index("span_id")
    for child in trace.dropna(subset=["parent_id"]).itertuples():
        parent = parents.loc[child.parent_id]
        assert parent["start"] <= child.start
        assert child.start + pd.Timedelta(milliseconds=child.duration_ms) <= (
            parent["start"] + pd.Timedelta(milliseconds=parent["duration_ms"])
        )
    call = calls[calls["trace_id"] == trace_id].iloc[0]
    span = trace[trace["service"] == call["service"]].iloc[0]
    for column in ("start", "duration_ms", "instance"):
        assert span[column] == call[column]


def test_every_called_trace_can_be_fetched(frames):
    source = DemoSource(name="demo")
    for trace_id in frames["calls"]["trace_id"].drop_duplicates().sample(20, random_state=1):
        assert trace_id in set(source.spans(trace_id)["trace_id"])


def test_failed_change_precedes_its_incident(frames):
    episode = _last("failed_change")
    change = frames["changes"].set_index("change_id").loc[episode.change_id]
    incident = frames["incidents"].set_index("incident_id").loc[episode.incident_id]
    assert (change["service"], change["type"], change["outcome"]) == ("order-gateway", "normal", "failed")
    assert change["state"] in ("closed", "review") and pd.notna(change["actual_end"])
    assert (incident["service"], incident["priority"]) == ("order-gateway", 2)
    assert incident["change_id"] == episode.change_id
    assert change["actual_start"] < change["actual_end"] < incident["opened_at"]
    assert incident["opened_at"] <= incident["acknowledged_at"] <= incident["resolved_at"]
    errors = frames["service_metrics"].query("service == 'order-gateway'").set_index("ts")["error_ratio"]
    during = errors[(errors.index >= incident["opened_at"]) & (errors.index < incident["resolved_at"])]
    assert during.min() > 10 * errors[errors.index < change["actual_start"]].median()
    alert = frames["alerts"].set_index("alert_id").loc[episode.alert_id]
    assert alert["name"] == "HighErrorRate" and alert["service"] == "order-gateway"


def test_incident_lifecycle_fields(frames):
    incidents = frames["incidents"]
    done = incidents[incidents["state"].isin(["resolved", "closed"])]
    assert done["acknowledged_at"].notna().all() and done["resolved_at"].notna().all()
    assert (done["acknowledged_at"] >= done["opened_at"]).all()
    assert (done["resolved_at"] >= done["acknowledged_at"]).all()
    active = incidents[incidents["state"].isin(["new", "in_progress", "on_hold"])]
    assert len(active) and active["resolved_at"].isna().all()
    assert set(incidents["priority"]) == {1, 2, 3, 4, 5}
    assert incidents["opened_at"].min() >= NOW - pd.Timedelta(days=31)
    assert incidents["incident_id"].str.fullmatch(r"INC\d{7}").all() and (incidents["source"] == "demo").all()


def test_changes_and_chaos_history(frames):
    changes, runs = frames["changes"], frames["chaos_runs"]
    assert (changes["outcome"] == "success").mean() > 0.7 and changes["outcome"].isin(["failed", "rolled_back"]).any()
    deviated = runs[runs["deviated"]]
    assert (deviated["service"] == "quote-service").any() and (deviated["status"] == "failed").all()
    assert (deviated["probe_success_ratio"] < 1).all() and deviated["recovery_s"].notna().all()
    passed = runs[~runs["deviated"] & (runs["status"] == "passed")]
    assert (passed["probe_success_ratio"] == 1.0).all() and passed["service"].nunique() > 3
    assert len(passed) >= 15  # several a week over thirty days


def test_something_is_active_at_any_time():
    for hours in range(0, 48, 5):
        now = NOW + pd.Timedelta(hours=hours, minutes=7 * hours)
        frames = _fetch(now, window_h=1)
        assert (frames["alerts"]["state"] == "firing").any(), now
        assert frames["incidents"]["state"].isin(["new", "in_progress", "on_hold"]).any(), now


def test_firing_alerts_have_no_end(frames):
    alerts = frames["alerts"]
    assert alerts[alerts["state"] == "firing"]["ends_at"].isna().all()
    resolved = alerts[alerts["state"] == "resolved"]
    assert len(resolved) and (resolved["ends_at"] > resolved["starts_at"]).all()


def test_thousand_services():
    frames = _fetch(services=1000)
    assert len(frames["services"]) == 1000
    for name, frame in frames.items():
        validate(name, frame)
    assert frames["resource_metrics"].groupby("service")["instance"].nunique().between(2, 4).all()


@pytest.mark.parametrize(
    "options, message",
    [
        ({"seed": "forty-two"}, "'seed': expected a number"),
        ({"seed": True}, "'seed': expected a number, got true"),
        ({"services": 10}, "'services': must be greater than or equal to 28"),
        ({"services": 2.5}, "'services': expected a whole number"),
        ({"window_h": 0}, "'window_h'"),
        ({"step_s": 0}, "'step_s'"),
        ({"fail": "maybe"}, "'fail': expected true or false"),
        ({"window_h": 0.01, "step_s": 60}, "'step_s': window_h must span at least one step_s"),
        ({"colour": "red"}, "'colour': unknown option"),
        ({"frames": ["incidents", "nonsense"]}, "'frames.1'"),
    ],
)
def test_bad_options_are_refused_when_the_source_is_built(options, message):
    with pytest.raises(SourceError, match=f"demo: option {message}"):
        DemoSource(name="demo", options=options)


def test_numbers_given_as_text_from_the_environment_are_read():
    assert DemoSource(name="demo", options={"seed": "42", "window_h": "6"}).config.seed == 42


def test_fail_option_raises():
    with pytest.raises(SourceError, match="demo source told to fail"):
        _fetch(fail=True)


def test_check_is_cheap_and_healthy():
    health = DemoSource(name="demo").check()
    assert health.ok and "28 services" in health.detail


@pytest.mark.parametrize("trace_id", ["", "nothex", "0" * 32, "z" * 32, None, 42, "01c87b9800000001" + "0" * 16])
def test_unknown_trace_is_empty(trace_id):
    spans = DemoSource(name="demo").spans(trace_id)
    assert spans.empty and list(validate("spans", spans).columns) == [c.name for c in CONTRACTS["spans"]]


def test_episode_ground_truth_covers_the_default_window():
    found = episodes(WINDOW_START, NOW)
    assert {"saturation", "failed_change", "chaos_deviation"} <= {e.kind for e in found}
    assert episodes(WINDOW_START, NOW) == found
    assert all(e.start < e.end for e in found)


def test_frames_option_limits_what_is_emitted():
    frames = _fetch(frames=["incidents", "changes", "chaos_runs"])
    assert set(frames) == {"incidents", "changes", "chaos_runs"}
    with pytest.raises(SourceError, match="frames"):
        _fetch(frames=["nonsense"])
    with pytest.raises(SourceError, match="frames"):
        _fetch(frames="incidents")


def test_an_injected_incident_shows_in_later_fetches():
    source = DemoSource(name="itsm", options={"frames": ["incidents"]})
    source.inject_incident("INC-TEST-1", "Exchange link down", 1, "exchange-link", NOW)
    before = source.fetch((NOW - pd.Timedelta(minutes=1)).to_pydatetime())["incidents"]
    after = source.fetch(NOW.to_pydatetime())["incidents"]
    assert "INC-TEST-1" not in set(before["incident_id"])
    row = after.set_index("incident_id").loc["INC-TEST-1"]
    assert (row["priority"], row["state"], row["opened_at"], row["source"]) == (1, "new", NOW, "itsm")
    assert pd.isna(row["acknowledged_at"]) and pd.isna(row["resolved_at"])


def test_site_episode_drains_traffic_from_the_degraded_site_and_logs_errors_there(frames):
    site = _last("site_degradation")
    sites = frames["instances"].set_index("instance")["site"]
    assert site.site == "sh-dc2" and sites[site.instance] == site.site and sites.nunique() >= 2
    res = frames["resource_metrics"].assign(site=lambda f: f["instance"].map(sites))
    share = lambda rows: rows.groupby("site")["net_rx_bps"].sum() / rows["net_rx_bps"].sum()  # noqa: E731
    during = res[res["ts"] == site.end - pd.Timedelta(minutes=2)]
    before = res[res["ts"] == site.start - pd.Timedelta(minutes=5)]
    assert share(during)[site.site] < 0.05 < 0.2 < share(before)[site.site]
    errors = frames["log_rates"].query("level == 'error' and service == 'clearing'")
    assert _between(errors, "ts", site)["count"].max() > 5 * errors["count"].median()


def test_slow_call_trace_id_appears_in_its_instance_log_lines(frames):
    slow = _last("saturation")
    calls = _between(frames["calls"], "start", slow)
    call = calls[calls["instance"] == slow.instance].sort_values("duration_ms").iloc[-1]
    source = DemoSource(name="demo")
    lines = source.log_lines(
        (call["service"],),
        call["start"] - pd.Timedelta("2min"),
        call["start"] + pd.Timedelta("2min"),
        50,
        instances=(slow.instance,),
        trace_id=call["trace_id"],
    )
    validate("log_lines", lines)
    mine = lines[lines["trace_id"] == call["trace_id"]]
    assert slow.instance in set(mine["instance"]) and "warning" in set(mine["level"])
    assert len(lines) <= 50 and set(lines["instance"]) == {slow.instance}


def test_service_requests_have_fulfilment_times(frames):
    requests = frames["service_requests"]
    done = requests[requests["state"] == "fulfilled"]
    assert requests["item"].nunique() >= 5 and len(done) > 100 and done["fulfilled_at"].notna().all()


def test_history_gives_valid_metrics_for_past_days():
    past = DemoSource(name="demo").history(NOW - pd.Timedelta(hours=2), NOW)
    assert set(past) == {"service_metrics", "resource_metrics"}
    assert len(past["service_metrics"]) == 120 * 28 and past["service_metrics"]["ts"].max() < NOW
