"""Change freezes: changes and chaos runs during a trading session or a freeze window, flagged or listed."""

import pandas as pd

from dashboard.analytics import calendar, freeze
from datasources.base import empty_frame, validate
from datasources.demo import DemoSource

TZ = "Asia/Shanghai"
TRADING_DAY = "2026-12-02"  # a Wednesday the A-share market trades
REBALANCING = freeze.Window(
    "CSI index rebalancing", pd.Timestamp("2026-12-11", tz=TZ), pd.Timestamp("2026-12-12", tz=TZ)
)


def _at(local: str) -> pd.Timestamp:
    return pd.Timestamp(local, tz=TZ).tz_convert("UTC")


def _change(change_id, start, minutes=8, kind="normal", service="order-gateway", state="closed", started=True):
    begin, end = _at(start), _at(start) + pd.Timedelta(minutes=minutes)
    return {
        "change_id": change_id,
        "title": f"Release {service}",
        "service": service,
        "type": kind,
        "state": state,
        "planned_start": begin,
        "planned_end": end,
        "actual_start": begin if started else pd.NaT,
        "actual_end": end if started and state == "closed" else pd.NaT,
        "outcome": "success" if started else "unknown",
        "source": "itsm",
        "url": f"https://itsm.example/{change_id}",
    }


def _changes(*rows) -> pd.DataFrame:
    frame = pd.DataFrame(list(rows))
    stamps = ("planned_start", "planned_end", "actual_start", "actual_end")
    return validate("changes", frame.assign(**{c: pd.to_datetime(frame[c], utc=True) for c in stamps}))


def _run(run_id, start, service="quote-service", status="passed"):
    return {
        "run_id": run_id,
        "experiment": f"{service} survives pod-kill",
        "service": service,
        "fault": "pod-kill",
        "started_at": _at(start),
        "ended_at": _at(start) + pd.Timedelta(minutes=10) if status != "running" else pd.NaT,
        "status": status,
        "deviated": False,
        "probe_success_ratio": 1.0,
        "recovery_s": 30.0,
        "source": "chaos",
        "url": None,
    }


def _found(changes=None, runs=None, rules=None, chains=None) -> pd.DataFrame:
    found = freeze.breaches(
        changes if changes is not None else empty_frame("changes"),
        validate("chaos_runs", pd.DataFrame(runs)) if runs else empty_frame("chaos_runs"),
        chains if chains is not None else empty_frame("chains"),
        rules or freeze.Rules(),
    )
    return validate("freeze_breaches", found).set_index("id")


def test_a_change_at_ten_on_a_trading_day_is_flagged_and_the_same_at_eight_in_the_evening_is_not():
    found = _found(_changes(_change("CHG-1", f"{TRADING_DAY} 10:00"), _change("CHG-2", f"{TRADING_DAY} 20:00")))
    assert list(found.index) == ["CHG-1"]
    row = found.loc["CHG-1"]
    assert (row["kind"], row["reason"], row["freeze"], bool(row["flagged"])) == ("change", "session", "cn", True)
    assert row["ts"] == _at(f"{TRADING_DAY} 10:00")


def test_an_emergency_change_in_session_is_listed_not_flagged_and_a_standard_one_is_flagged():
    found = _found(
        _changes(
            _change("CHG-E", f"{TRADING_DAY} 10:00", kind="emergency"),
            _change("CHG-S", f"{TRADING_DAY} 10:00", kind="standard"),
        )
    )
    assert not found.loc["CHG-E", "flagged"] and found.loc["CHG-E", "reason"] == "session"
    assert found.loc["CHG-S", "flagged"]


def test_a_window_day_flags_an_evening_change_and_names_the_window():
    rules = freeze.Rules(windows=(REBALANCING,))
    found = _found(_changes(_change("CHG-W", "2026-12-11 20:00"), _change("CHG-X", "2026-12-10 20:00")), rules=rules)
    assert list(found.index) == ["CHG-W"]
    assert (found.loc["CHG-W", "reason"], found.loc["CHG-W", "freeze"]) == ("window", "CSI index rebalancing")


def test_a_window_names_its_markets_and_chains():
    hk_only = freeze.Window("HK rebalancing", _at("2026-12-11 00:00"), _at("2026-12-12 00:00"), markets=("hk",))
    trading = freeze.Window("Trading chain", _at("2026-12-11 00:00"), _at("2026-12-12 00:00"), chains=("trading",))
    chains = validate(
        "chains",
        pd.DataFrame({"chain": ["trading"], "chain_name": ["Trading"], "step": [1], "service": ["order-gateway"]}),
    )
    changes = _changes(_change("CHG-OG", "2026-12-11 20:00"), _change("CHG-LED", "2026-12-11 20:00", service="ledger"))
    assert _found(changes, rules=freeze.Rules(windows=(hk_only,)), chains=chains).empty
    assert list(_found(changes, rules=freeze.Rules(windows=(trading,)), chains=chains).index) == ["CHG-OG"]
    hk_service = freeze.Rules(windows=(hk_only,), service_markets={"ledger": "hk"})
    assert list(_found(changes, rules=hk_service, chains=chains).index) == ["CHG-LED"]


def test_a_chaos_run_during_a_session_is_flagged_and_one_at_night_is_not():
    found = _found(runs=[_run("RUN-1", f"{TRADING_DAY} 10:17"), _run("RUN-2", f"{TRADING_DAY} 22:17")])
    assert list(found.index) == ["RUN-1"]
    assert (found.loc["RUN-1", "kind"], bool(found.loc["RUN-1", "flagged"])) == ("chaos", True)


def test_a_service_follows_its_own_market_and_sessions_can_be_turned_off():
    late = _changes(_change("CHG-HK", f"{TRADING_DAY} 15:30"))  # A-shares closed at 15:00, Hong Kong until 16:10
    assert _found(late).empty
    found = _found(late, rules=freeze.Rules(service_markets={"order-gateway": "hk"}))
    assert found.loc["CHG-HK", "freeze"] == "hk"
    assert _found(_changes(_change("CHG-1", f"{TRADING_DAY} 10:00")), rules=freeze.Rules(sessions=False)).empty


def test_the_span_of_a_change_reaches_into_the_session_and_a_lunch_break_is_frozen():
    found = _found(
        _changes(
            _change("CHG-EARLY", f"{TRADING_DAY} 08:50", minutes=40),  # runs into the opening auction
            _change("CHG-BEFORE", f"{TRADING_DAY} 08:50", minutes=25),  # ends 09:15, as the auction opens
            _change("CHG-LUNCH", f"{TRADING_DAY} 12:00"),
        )
    )
    assert sorted(found.index) == ["CHG-EARLY", "CHG-LUNCH"]


def test_planned_times_count_until_started_and_a_change_that_never_ran_is_left_out():
    found = _found(
        _changes(
            _change("CHG-PLAN", f"{TRADING_DAY} 10:00", state="scheduled", started=False),
            _change("CHG-RUN", f"{TRADING_DAY} 08:00", minutes=120, state="implement"),  # until its planned end
            _change("CHG-CANCEL", f"{TRADING_DAY} 10:00", state="cancelled", started=False),
        )
    )
    assert sorted(found.index) == ["CHG-PLAN", "CHG-RUN"]


def test_a_declared_closure_ends_the_session():
    closure = calendar.Closure("cn", _at(f"{TRADING_DAY} 09:00"), _at(f"{TRADING_DAY} 12:00"), "Typhoon")
    changes = _changes(_change("CHG-1", f"{TRADING_DAY} 10:00"), _change("CHG-2", f"{TRADING_DAY} 13:30"))
    assert list(_found(changes, rules=freeze.Rules(closures=(closure,))).index) == ["CHG-2"]


def test_recent_keeps_the_last_thirty_days():
    found = _found(_changes(_change("CHG-OLD", "2026-10-28 10:00"), _change("CHG-NEW", f"{TRADING_DAY} 10:00")))
    assert list(freeze.recent(found.reset_index(), _at("2026-12-06 12:00"))["id"]) == ["CHG-NEW"]


def test_the_demo_release_in_the_morning_session_is_flagged_and_the_evening_one_is_not():
    """The demo's scripted order-gateway release runs every two hours: at 09:27 and 19:27 on 2 December."""
    now = _at(f"{TRADING_DAY} 21:40").to_pydatetime()
    frames = DemoSource(name="demo", options={"window_h": 13, "step_s": 3600}).fetch(now)
    found = _found(frames["changes"], frames["chaos_runs"].to_dict("records"), chains=frames["chains"])
    scripted = frames["changes"].set_index("change_id")
    morning = scripted.index[scripted["actual_start"] == _at(f"{TRADING_DAY} 09:27")][0]
    evening = scripted.index[scripted["actual_start"] == _at(f"{TRADING_DAY} 19:27")][0]
    assert found.loc[morning, "flagged"] and found.loc[morning, "reason"] == "session"
    assert evening not in found.index
    assert found.loc[found["kind"] == "chaos"].shape[0] >= 1
