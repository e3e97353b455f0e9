"""Per-site traffic share and health of chains, on the demo estate during its site episode."""

import pandas as pd

from dashboard.analytics import sites
from datasources.demo import DemoSource, episodes

NOW = pd.Timestamp("2026-11-18 02:05", tz="UTC")


def _figures(at):
    frames = DemoSource(name="demo").fetch(at.to_pydatetime())
    return sites.chain_sites(frames["chains"], frames["instances"], frames["resource_metrics"]), frames


def test_a_drained_site_is_red_and_carries_almost_nothing():
    episode = [e for e in episodes(NOW - pd.Timedelta(hours=6), NOW) if e.kind == "site_degradation"][-1]
    during, _ = _figures(episode.end - pd.Timedelta(minutes=2))
    trading = during[during["chain"] == "equity-trading"].set_index("site")
    assert trading.loc["sh-dc2", "status"] == "crit" and trading.loc["sh-dc2", "share"] < 0.05
    assert abs(trading["share"].sum() - 1) < 1e-9
    before, frames = _figures(episode.start - pd.Timedelta(minutes=3))
    wealth = before[before["chain"] == "wealth"].set_index("site")
    assert set(wealth["status"]) == {"ok"} and wealth.loc["sh-dc2", "share"] > 0.2
    assert sites.instances_at(frames["instances"], "sh-dc2") >= {"exchange-link-2"}
    assert sites.instances_at(frames["instances"], None) is None


def test_wall_sites_follow_the_wall_order():
    figures = pd.DataFrame({"chain": ["b", "b"], "site": ["x", "y"], "share": [0.25, 0.75], "status": ["ok", "warn"]})
    assert sites.wall_sites([{"chain": "a"}, {"chain": "b"}], figures) == [
        [],
        [["x", "25%", "ok"], ["y", "75%", "warn"]],
    ]


def _site_states(at):
    frames = DemoSource(name="demo").fetch(at.to_pydatetime())
    return sites.site_states(frames["instances"], frames["resource_metrics"]).set_index("site"), frames


def test_the_estate_sees_a_drained_site_and_one_that_stopped_reporting():
    episode = [e for e in episodes(NOW - pd.Timedelta(hours=6), NOW) if e.kind == "site_degradation"][-1]
    during, frames = _site_states(episode.end - pd.Timedelta(minutes=2))
    assert (during.loc["sh-dc2", "status"], during.loc["sh-dc2", "kind"]) == ("crit", "drained")
    assert during.loc["sh-dc2", "share"] < 0.05 and 0.3 < during.loc["sh-dc2", "even"] < 0.4
    assert set(during.drop(index="sh-dc2")["status"]) == {"ok"}
    before, _ = _site_states(episode.start - pd.Timedelta(minutes=3))
    assert set(before["status"]) == {"ok"} and set(before["kind"]) == {"ok"}
    at_dc1 = sites.instances_at(frames["instances"], "sh-dc1")
    quiet = frames["resource_metrics"][~frames["resource_metrics"]["instance"].isin(at_dc1)]
    silent = sites.site_states(frames["instances"], quiet).set_index("site")
    assert (silent.loc["sh-dc1", "status"], silent.loc["sh-dc1", "kind"]) == ("crit", "silent")
    one_site = frames["instances"].assign(site="sh-dc1")
    assert sites.site_states(one_site, frames["resource_metrics"]).empty  # nothing to compare with
