"""Capacity model: cost roll-ups add up; recommendations on known utilisation, from the last completed
trading day, decided by the busiest instance and by the loss of a site."""

from datetime import UTC, date, datetime

import pandas as pd
import pytest

from dashboard.analytics import capacity
from datasources.base import validate

DAY = pd.Timestamp("2024-03-04 16:00", tz="UTC")  # Tuesday in Shanghai
TUESDAY = date(2024, 3, 5)
CONFIG = {**capacity.DEFAULTS, "cpu_hour": 1.0, "gb_hour": 0.5, "instance_hour": 2.0, "cores_per_instance": 2}


def _peaks(rows):
    frame = pd.DataFrame(
        [
            {
                "day": DAY,
                "service": s,
                "instance": f"{s}-{i}",
                "cpu_ratio": cpu,
                "memory_ratio": mem,
                "memory_limit_bytes": 4 * capacity.GB,
            }
            for s, n, cpu, mem in rows
            for i in range(n)
        ]
    )
    frame["day"] = frame["day"].astype("datetime64[ns, UTC]")
    return validate("utilisation_peaks", frame)


def test_cost_per_instance_month():
    assert capacity.instance_month_cost(CONFIG, "x", 4.0) == pytest.approx((2 * 1.0 + 4 * 0.5 + 2.0) * 730)


def test_chain_costs_add_up_with_shared_services():
    table = capacity.services(
        _peaks([("a", 2, 0.5, 0.5), ("b", 3, 0.5, 0.5), ("shared", 2, 0.5, 0.5), ("alone", 2, 0.5, 0.5)]),
        CONFIG,
        TUESDAY,
    )
    chains = pd.DataFrame(
        {
            "chain": ["c1", "c1", "c2", "c2"],
            "chain_name": ["C1", "C1", "C2", "C2"],
            "service": ["a", "shared", "b", "shared"],
        }
    )
    rolled = capacity.chains(table, chains)
    assert rolled["cost_month"].sum() == pytest.approx(table["cost_month"].sum())
    per = capacity.instance_month_cost(CONFIG, "a", 4.0)
    assert rolled.set_index("chain").loc["c1", "cost_month"] == pytest.approx(2 * per + per)  # a + half of shared
    assert rolled.set_index("chain").loc["", "services"] == 1


def test_recommendations_on_known_utilisation():
    table = capacity.services(
        _peaks([("hot", 4, 0.8, 0.5), ("cold", 6, 0.1, 0.5), ("fine", 3, 0.5, 0.5), ("fat", 3, 0.5, 0.1)]),
        CONFIG,
        TUESDAY,
    )
    advice = capacity.recommend(table, CONFIG).set_index("service")
    per = capacity.instance_month_cost(CONFIG, "hot", 4.0)
    # hot: 4 x 0.8 x 1.1 / 0.7 = 5.03 -> 6 instances
    assert advice.loc["hot", "action"] == "scale_out" and advice.loc["hot", "to"] == 6
    assert advice.loc["hot", "monthly"] == pytest.approx(2 * per)
    # cold: 6 x 0.1 x 1.1 / 0.7 = 0.94 -> the two-instance floor
    assert advice.loc["cold", "action"] == "scale_in" and advice.loc["cold", "to"] == 2
    assert advice.loc["cold", "monthly"] == pytest.approx(-4 * per)
    assert advice.loc["fat", "action"] == "right_size" and advice.loc["fat", "monthly"] < 0
    assert "fine" not in advice.index


def test_daily_peaks_take_the_busiest_minutes():
    ts = pd.date_range(DAY, periods=60, freq="min", tz="UTC")
    cpu = [0.2] * 60
    cpu[30:35] = [0.9] * 5
    frame = pd.DataFrame(
        {
            "ts": ts,
            "service": "s",
            "instance": "s-1",
            "cpu_ratio": cpu,
            "memory_bytes": 2 * capacity.GB,
            "memory_ratio": 0.5,
            "net_rx_bps": 0.0,
            "net_tx_bps": 0.0,
        }
    )
    peaks = validate("utilisation_peaks", capacity.daily_peaks(frame))
    assert peaks["cpu_ratio"].iloc[0] == pytest.approx(0.9)
    assert peaks["memory_limit_bytes"].iloc[0] == pytest.approx(4 * capacity.GB)


def test_missing_and_non_finite_values_leave_the_peaks_and_the_advice_intact():
    """A scrape gap (no CPU for any instance at one minute), an instance without CPU at all, a service
    without CPU, infinite memory: each value is taken as missing, never as a reason to fail."""
    ts = pd.date_range(DAY, periods=30, freq="min", tz="UTC")
    rows = [
        {
            "ts": t,
            "service": s,
            "instance": i,
            "cpu_ratio": 0.5,
            "memory_bytes": 2 * capacity.GB,
            "memory_ratio": 0.5,
            "net_rx_bps": 0.0,
            "net_tx_bps": 0.0,
        }
        for t in ts
        for s, i in (("a", "a-1"), ("a", "a-2"), ("blind", "blind-1"))
    ]
    frame = pd.DataFrame(rows)
    frame.loc[frame["ts"] == ts[10], "cpu_ratio"] = float("nan")
    frame.loc[frame["instance"].isin(["a-2", "blind-1"]), "cpu_ratio"] = float("nan")
    frame.loc[frame["ts"] == ts[20], "memory_bytes"] = float("inf")
    peaks = validate("utilisation_peaks", capacity.daily_peaks(frame)).set_index("instance")
    assert peaks.loc["a-1", "cpu_ratio"] == pytest.approx(0.5) and peaks[["cpu_ratio"]].loc["a-2"].isna().all()
    assert peaks["memory_limit_bytes"].tolist() == pytest.approx([4 * capacity.GB] * 3)
    table = capacity.services(peaks.reset_index(), CONFIG, TUESDAY).set_index("service")
    assert table.loc["a", "cpu_peak"] == pytest.approx(0.5) and pd.isna(table.loc["blind", "cpu_peak"])
    advice = capacity.recommend(table.reset_index(), CONFIG)
    assert "blind" not in set(advice["service"])  # nothing to size it by


def _placed(cpus_by_site: dict[str, dict[str, list[float]]], day=DAY):
    """Peaks and instances of services given as {service: {site: [each instance's CPU peak]}}."""
    rows = [
        (service, site, f"{service}-{site}-{i}", cpu)
        for service, sites in cpus_by_site.items()
        for site, cpus in sites.items()
        for i, cpu in enumerate(cpus)
    ]
    peaks = pd.DataFrame(
        {
            "day": day,
            "service": [r[0] for r in rows],
            "instance": [r[2] for r in rows],
            "cpu_ratio": [r[3] for r in rows],
            "memory_ratio": 0.5,
            "memory_limit_bytes": 4 * capacity.GB,
        }
    )
    peaks["day"] = peaks["day"].astype("datetime64[ns, UTC]")
    instances = pd.DataFrame(
        {"service": [r[0] for r in rows], "instance": [r[2] for r in rows], "site": [r[1] for r in rows]}
    )
    return validate("utilisation_peaks", peaks), validate("instances", instances)


def test_the_busiest_instance_decides_the_peak():
    """One instance at 96% and two idle ones: a mean (35%) would call it fine; its busiest instance does not."""
    peaks, instances = _placed({"pretrade-risk": {"a": [0.05], "b": [0.96], "c": [0.05]}})
    table = capacity.services(peaks, CONFIG, TUESDAY, instances).set_index("service")
    assert table.loc["pretrade-risk", "cpu_peak"] == pytest.approx(0.96)
    assert table.loc["pretrade-risk", "busiest"] == "pretrade-risk-b-0"
    # losing site a moves its 5% onto the two survivors: the busy one reaches 96% + 2.5%
    assert table.loc["pretrade-risk", "site_loss_cpu"] == pytest.approx(0.985)
    assert table.loc["pretrade-risk", "lost_site"] == "a"
    advice = capacity.recommend(table.reset_index(), CONFIG).set_index("service")
    assert advice.loc["pretrade-risk", "action"] == "scale_out"
    # two survivors at 98.5% x 1.1 buffer need 3.1 -> 4 survivors: 6 instances over 3 sites
    assert advice.loc["pretrade-risk", "to"] == 6


def test_a_site_loss_that_overloads_the_survivors_scales_out():
    """50% everywhere leaves 50% headroom at the peak, but losing a site puts the survivors at 75%."""
    peaks, instances = _placed({"even": {"a": [0.5], "b": [0.5], "c": [0.5]}})
    table = capacity.services(peaks, CONFIG, TUESDAY, instances)
    assert table["site_loss_cpu"].iloc[0] == pytest.approx(0.75) and table["sites"].iloc[0] == 3
    advice = capacity.recommend(table, CONFIG)
    # 2 survivors x 0.75 x 1.1 / 0.7 = 2.36 -> 3 survivors: 5 instances (losing a site of two leaves three)
    assert advice["action"].tolist() == ["scale_out"] and advice["to"].tolist() == [5]
    without_sites = capacity.services(peaks, CONFIG, TUESDAY)
    assert capacity.recommend(without_sites, CONFIG).empty  # at one site, 50% is within the 70% ceiling


def test_scale_in_keeps_one_instance_per_site():
    """Six idle instances over three sites: the site floor (3) wins over min_instances (2)."""
    peaks, instances = _placed({"idle": {"a": [0.05, 0.05], "b": [0.05, 0.05], "c": [0.05, 0.05]}})
    advice = capacity.recommend(capacity.services(peaks, CONFIG, TUESDAY, instances), CONFIG)
    assert advice["action"].tolist() == ["scale_in"] and advice["to"].tolist() == [3]
    assert capacity.survivors(3, 3) == 2 and capacity.survivors(3, 1) == 3


def test_uneven_sites_are_rebalanced_before_adding_instances():
    """Three instances at one site, one at the other: losing the big site overloads the lone one; the same
    four spread two and two would hold."""
    peaks, instances = _placed({"lopsided": {"a": [0.2, 0.2, 0.2], "b": [0.2]}})
    table = capacity.services(peaks, CONFIG, TUESDAY, instances)
    assert table["site_loss_cpu"].iloc[0] == pytest.approx(0.8)
    advice = capacity.recommend(table, CONFIG)
    assert advice["action"].tolist() == ["rebalance"] and advice["monthly"].tolist() == [0.0]


def test_riskiest_service_first():
    peaks, instances = _placed(
        {"calm": {"a": [0.1], "b": [0.1]}, "hot": {"a": [0.6], "b": [0.6]}, "warm": {"a": [0.3], "b": [0.3]}}
    )
    table = capacity.services(peaks, CONFIG, TUESDAY, instances)
    assert table["service"].tolist() == ["hot", "warm", "calm"]
    assert capacity.recommend(table, CONFIG)["service"].tolist()[0] == "hot"


def test_peaks_come_from_the_last_completed_trading_day():
    """At 03:00 on a Tuesday the day so far (quiet night hours) must not size anything: Monday does."""
    monday, tuesday = pd.Timestamp("2024-03-03 16:00", tz="UTC"), DAY  # local midnights in Shanghai
    monday_peaks, instances = _placed({"svc": {"a": [0.6], "b": [0.6]}}, day=monday)
    tuesday_peaks, _ = _placed({"svc": {"a": [0.05], "b": [0.05]}}, day=tuesday)
    peaks = pd.concat([monday_peaks, tuesday_peaks], ignore_index=True)
    at_three = datetime(2024, 3, 4, 19, 0, tzinfo=UTC)  # Tuesday 03:00 in Shanghai
    day = capacity.peak_day(peaks, at_three, "cn")
    assert day == date(2024, 3, 4)
    table = capacity.services(peaks, CONFIG, day, instances)
    assert table["cpu_peak"].tolist() == [pytest.approx(0.6)]
    assert capacity.recommend(table, CONFIG)["action"].tolist() == ["scale_out"]  # 0.6 + 0.6 after a site loss
    after_close = datetime(2024, 3, 5, 7, 30, tzinfo=UTC)  # Tuesday 15:30
    assert capacity.peak_day(peaks, after_close, "cn") == date(2024, 3, 5)
    assert capacity.peak_day(peaks, after_close, "hk") == date(2024, 3, 4)  # Hong Kong trades until 16:10
    # the peaks do not reach the last completed day (Wednesday): the latest earlier one they have
    assert capacity.peak_day(peaks, datetime(2024, 3, 6, 8, 0, tzinfo=UTC), "cn") == date(2024, 3, 5)
    assert capacity.peak_day(peaks.iloc[0:0], at_three, "cn") is None


def test_fewer_instances_than_the_floor_scale_out_whatever_the_load():
    peaks, instances = _placed({"lonely": {"a": [0.2]}})
    advice = capacity.recommend(capacity.services(peaks, CONFIG, TUESDAY, instances), CONFIG)
    assert advice[["action", "why", "to"]].values.tolist() == [["scale_out", "floor", 2]]


def test_the_trend_spans_the_thirty_days_up_to_the_peak_day():
    """A month ago the service ran hot; over the 30 days since it has risen by a point a day."""
    days = [DAY - pd.Timedelta(days=k) for k in range(40)]
    rows = [_placed({"svc": {"a": [0.9 if k >= 30 else 0.5 - 0.01 * k]}}, day=day)[0] for k, day in enumerate(days)]
    peaks = pd.concat(rows, ignore_index=True)
    trend = capacity.services(peaks, CONFIG, TUESDAY)["trend_month"].iloc[0]
    assert trend == pytest.approx(0.3, abs=0.01)  # the hot days before the 30 would make it fall


def test_instances_gone_from_the_instances_frame_keep_the_site_stored_with_their_peaks():
    _, instances = _placed({"svc": {"sh": [0.5], "sz": [0.5]}})
    stored = pd.DataFrame(
        {"service": ["svc", "svc", "svc"], "instance": ["svc-sh-0", "old-1", "old-2"], "x_site": ["xx", "sh", None]}
    )
    placed = capacity.placed_instances(instances, stored).set_index("instance")["site"]
    assert placed.to_dict() == {"svc-sh-0": "sh", "svc-sz-0": "sz", "old-1": "sh"}  # the frame wins where it places
