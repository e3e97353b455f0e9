"""Capacity model: cost roll-ups add up; recommendations on known utilisation."""
import pandas as pd
import pytest

from dashboard.analytics import capacity
from datasources.base import validate

DAY = pd.Timestamp("2024-03-04 16:00", tz="UTC")  # Tuesday in Shanghai
CONFIG = {**capacity.DEFAULTS, "cpu_hour": 1.0, "gb_hour": 0.5, "instance_hour": 2.0, "cores_per_instance": 2}


def _peaks(rows):
    frame = pd.DataFrame([{"day": DAY, "service": s, "instance": f"{s}-{i}", "cpu_ratio": cpu, "memory_ratio": mem,
                           "memory_limit_bytes": 4 * capacity.GB} for s, n, cpu, mem in rows for i in range(n)])
    frame["day"] = frame["day"].astype("datetime64[ns, UTC]")
    return validate("utilisation_peaks", frame)


def test_cost_per_instance_month():
    assert capacity.instance_month_cost(CONFIG, "x", 4.0) == pytest.approx((2 * 1.0 + 4 * 0.5 + 2.0) * 730)


def test_chain_costs_add_up_with_shared_services():
    table = capacity.services(_peaks([("a", 2, 0.5, 0.5), ("b", 3, 0.5, 0.5), ("shared", 2, 0.5, 0.5),
                                      ("alone", 2, 0.5, 0.5)]), CONFIG)
    chains = pd.DataFrame({"chain": ["c1", "c1", "c2", "c2"], "chain_name": ["C1", "C1", "C2", "C2"],
                           "service": ["a", "shared", "b", "shared"]})
    rolled = capacity.chains(table, chains)
    assert rolled["cost_month"].sum() == pytest.approx(table["cost_month"].sum())
    per = capacity.instance_month_cost(CONFIG, "a", 4.0)
    assert rolled.set_index("chain").loc["c1", "cost_month"] == pytest.approx(2 * per + per)  # a + half of shared
    assert rolled.set_index("chain").loc["", "services"] == 1


def test_recommendations_on_known_utilisation():
    table = capacity.services(_peaks([("hot", 4, 0.8, 0.5), ("cold", 6, 0.1, 0.5), ("fine", 3, 0.5, 0.5),
                                      ("fat", 3, 0.5, 0.1)]), CONFIG)
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
    frame = pd.DataFrame({"ts": ts, "service": "s", "instance": "s-1", "cpu_ratio": cpu, "memory_bytes": 2 * capacity.GB,
                          "memory_ratio": 0.5, "net_rx_bps": 0.0, "net_tx_bps": 0.0})
    peaks = validate("utilisation_peaks", capacity.daily_peaks(frame))
    assert peaks["cpu_ratio"].iloc[0] == pytest.approx(0.9)
    assert peaks["memory_limit_bytes"].iloc[0] == pytest.approx(4 * capacity.GB)


def test_missing_and_non_finite_values_leave_the_peaks_and_the_advice_intact():
    """A scrape gap (no CPU for any instance at one minute), an instance without CPU at all, a service
    without CPU, infinite memory: each value is taken as missing, never as a reason to fail."""
    ts = pd.date_range(DAY, periods=30, freq="min", tz="UTC")
    rows = [{"ts": t, "service": s, "instance": i, "cpu_ratio": 0.5, "memory_bytes": 2 * capacity.GB,
             "memory_ratio": 0.5, "net_rx_bps": 0.0, "net_tx_bps": 0.0}
            for t in ts for s, i in (("a", "a-1"), ("a", "a-2"), ("blind", "blind-1"))]
    frame = pd.DataFrame(rows)
    frame.loc[frame["ts"] == ts[10], "cpu_ratio"] = float("nan")
    frame.loc[frame["instance"].isin(["a-2", "blind-1"]), "cpu_ratio"] = float("nan")
    frame.loc[frame["ts"] == ts[20], "memory_bytes"] = float("inf")
    peaks = validate("utilisation_peaks", capacity.daily_peaks(frame)).set_index("instance")
    assert peaks.loc["a-1", "cpu_ratio"] == pytest.approx(0.5) and peaks[["cpu_ratio"]].loc["a-2"].isna().all()
    assert peaks["memory_limit_bytes"].tolist() == pytest.approx([4 * capacity.GB] * 3)
    table = capacity.services(peaks.reset_index(), CONFIG).set_index("service")
    assert table.loc["a", "cpu_peak"] == pytest.approx(0.5) and pd.isna(table.loc["blind", "cpu_peak"])
    advice = capacity.recommend(table.reset_index(), CONFIG)
    assert "blind" not in set(advice["service"])  # nothing to size it by
