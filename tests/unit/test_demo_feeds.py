"""The demo's market-data feeds: they tick only while their market trades, and the scripted stall stops one
market's feeds at one site."""

import pandas as pd

from dashboard.analytics import feeds as judged
from datasources.base import validate
from datasources.demo import DemoSource, episodes, feeds

TRADING_DAY = "2026-12-01"  # a Tuesday on which the Shanghai exchange trades


def shanghai(clock: str) -> pd.Timestamp:
    return pd.Timestamp(f"{TRADING_DAY} {clock}", tz="Asia/Shanghai").tz_convert("UTC")


def stall_at(moment: pd.Timestamp):
    return next(e for e in episodes(moment, moment) if e.kind == "feed_stall")


def feed_status(moment: pd.Timestamp) -> pd.DataFrame:
    source = DemoSource(name="demo", options={"frames": ["feed_status"]})
    return source.fetch(moment.to_pydatetime())["feed_status"]


def test_the_stall_is_ground_truth_at_one_site_and_market():
    stall = stall_at(shanghai("10:00"))
    assert (stall.site, stall.market, stall.instance) == ("sh-dc2", "SSE", "feed-handler-2")
    assert stall.start <= shanghai("10:00") < stall.end


def test_a_stall_at_ten_stops_the_sse_feeds_at_that_site_only():
    frame = validate("feed_status", feed_status(shanghai("10:00")))
    sse = frame[frame["market"] == "SSE"].set_index(["site", "feed"])
    stalled, other = sse.loc["sh-dc2"], sse.loc["sh-dc1"]
    started = (shanghai("10:00") - stall_at(shanghai("10:00")).start).total_seconds()
    assert (stalled["tick_age_s"] >= started).all() and (stalled["messages_per_s"] == 0).all()
    assert (other["tick_age_s"] < 3).all() and (other["messages_per_s"] > 0).all()
    szse = frame[frame["market"] == "SZSE"]
    assert (szse["tick_age_s"] < 3).all()


def test_the_wall_judges_the_stall_at_ten_late_naming_the_site():
    states = judged.market_states(feed_status(shanghai("10:00"))).set_index("market")
    assert states.loc["SSE", "state"] == "late" and states.loc["SSE", "sites"] == "sh-dc2"
    assert states.loc["SSE", "tick_age_s"] > judged.LATE_S
    assert (states.drop("SSE")["state"] == "ok").all()


def test_the_same_stall_at_lunch_is_quiet():
    lunch = shanghai("12:00")
    assert stall_at(lunch).site == "sh-dc2"
    frame = feed_status(lunch)
    assert (frame.loc[frame["market"] == "SSE", "tick_age_s"] > 25 * 60).all()  # since 11:30, every site
    states = judged.market_states(frame).set_index("market")
    assert states.loc["SSE", "state"] == "closed" and states.loc["SSE", "sites"] == ""
    assert (states["state"] == "closed").all()  # Hong Kong breaks for lunch at 12:00 too


def test_at_night_every_market_is_closed_and_its_feeds_have_aged():
    night = shanghai("02:30")
    frame = feed_status(night)
    assert (frame["tick_age_s"] > 3 * 3600).all() and (frame["messages_per_s"] == 0).all()
    assert (judged.market_states(frame)["state"] == "closed").all()


def test_a_silent_feeds_age_grows_with_the_clock_and_a_live_ones_does_not():
    first, later = feed_status(shanghai("10:00")), feed_status(shanghai("10:00") + pd.Timedelta(seconds=40))
    grown = (later["tick_age_s"] - first["tick_age_s"]).set_axis(pd.MultiIndex.from_frame(first[["market", "site"]]))
    assert (grown.loc[("SSE", "sh-dc2")] == 40).all()
    assert (grown.loc[("SSE", "sh-dc1")].abs() < 2).all()


def test_a_feed_counts_a_burst_of_gaps_when_it_ticks_again_after_a_stall():
    after = stall_at(shanghai("10:00")).end + pd.Timedelta(minutes=2)
    frame = feed_status(after).set_index(["market", "site", "feed"])
    assert (frame.loc[("SSE", "sh-dc2"), "sequence_gaps"] >= feeds.GAP_BURST).all()
    assert (frame.loc[("SSE", "sh-dc1"), "sequence_gaps"] < feeds.GAP_BURST).all()


def test_the_feeds_are_the_same_whenever_asked():
    moment = shanghai("10:00")
    pd.testing.assert_frame_equal(feed_status(moment), feed_status(moment))
