"""The market strip's judgement: late only in session and past the threshold, naming the late sites."""

import math

import pandas as pd

from dashboard.analytics import feeds
from dashboard.analytics.calendar import FEED_MARKETS, Closure
from datasources.base import CONTRACTS
from datasources.base import FEED_MARKETS as CONTRACT_MARKETS

IN_SESSION = pd.Timestamp("2026-12-01 10:00", tz="Asia/Shanghai").tz_convert("UTC")


def frame(rows: list[tuple], at: pd.Timestamp = IN_SESSION) -> pd.DataFrame:
    data = pd.DataFrame(rows, columns=["market", "feed", "site", "tick_age_s"])
    return data.assign(ts=at, sequence_gaps=0.0, messages_per_s=1.0)


def test_the_calendar_and_the_contract_know_the_same_markets():
    assert tuple(FEED_MARKETS) == CONTRACT_MARKETS
    assert [c.name for c in CONTRACTS["wall_markets"]] == list(feeds.COLUMNS)


def test_late_sites_are_named_oldest_first_and_only_past_the_threshold():
    states = feeds.market_states(
        frame(
            [
                ("SSE", "l1", "sh-dc1", 45.0),
                ("SSE", "l2", "sh-dc1", 1.0),
                ("SSE", "l1", "sh-dc2", 90.0),
                ("SSE", "l1", "cloud-sh", 29.0),
                ("SZSE", "l1", "sh-dc1", 29.0),
            ]
        ),
        late_s=30,
    ).set_index("market")
    assert states.loc["SSE"].tolist() == ["late", "sh-dc2, sh-dc1", 90.0]
    assert states.loc["SZSE"].tolist()[:2] == ["ok", ""] and states.loc["SZSE", "tick_age_s"] == 29.0


def test_markets_without_feeds_have_no_data_and_the_order_is_fixed():
    states = feeds.market_states(frame([("HKEX", "omd", "sh-dc1", 1.0)]))
    assert states["market"].tolist() == list(FEED_MARKETS)
    assert states.set_index("market")["state"].to_dict() == {
        "SSE": "nodata",
        "SZSE": "nodata",
        "HKEX": "ok",
        "futures": "nodata",
        "indices": "nodata",
    }
    assert (feeds.market_states(frame([]).iloc[0:0])["state"] == "nodata").all()


def test_a_feed_without_an_age_is_no_data_not_late():
    states = feeds.market_states(frame([("SSE", "l1", "sh-dc1", math.nan)])).set_index("market")
    assert states.loc["SSE", "state"] == "nodata"


def test_an_old_tick_outside_the_session_is_closed():
    evening = pd.Timestamp("2026-12-01 19:00", tz="Asia/Shanghai").tz_convert("UTC")
    states = feeds.market_states(frame([("SSE", "l1", "sh-dc2", 14400.0)], evening)).set_index("market")
    assert states.loc["SSE"].tolist()[:2] == ["closed", ""] and math.isnan(states.loc["SSE", "tick_age_s"])


def test_the_futures_night_session_is_live():
    night = pd.Timestamp("2026-12-01 21:30", tz="Asia/Shanghai").tz_convert("UTC")
    states = feeds.market_states(frame([("futures", "ctp", "sh-dc2", 120.0)], night)).set_index("market")
    assert states.loc["futures", "state"] == "late"


def test_a_declared_closure_keeps_a_silent_market_quiet():
    closure = Closure("cn", IN_SESSION - pd.Timedelta(hours=1), IN_SESSION + pd.Timedelta(hours=1), "typhoon")
    rows = frame([("SSE", "l1", "sh-dc2", 600.0)])
    assert feeds.market_states(rows).loc[0, "state"] == "late"
    assert feeds.market_states(rows, closures=(closure,)).loc[0, "state"] == "closed"


def test_a_market_just_live_again_is_not_late_until_its_feeds_have_had_the_threshold_to_tick():
    def sse(local: str, age_s: float) -> str:
        at = pd.Timestamp(f"2026-12-01 {local}", tz="Asia/Shanghai").tz_convert("UTC")
        return (
            feeds.market_states(frame([("SSE", "l1", "sh-dc1", age_s)], at), late_s=30)
            .set_index("market")
            .loc["SSE", "state"]
        )

    assert sse("09:30:10", 250.0) == "ok"  # the last tick in the opening auction; continuous trading began 10 s ago
    assert sse("09:30:40", 280.0) == "late"  # 40 s of continuous trading without a tick
    assert sse("13:00:20", 5420.0) == "ok"  # after lunch
    assert sse("13:01:00", 5460.0) == "late"
