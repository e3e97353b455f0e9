"""Capacity and cost: daily utilisation peaks, cost per service and chain, headroom, site loss and advice.

Pure functions of frames and the ``capacity:`` settings. Peaks come from one day: the last
completed trading day of the ``market`` (``peak_day``), never a day still in progress. A
service's peak is its busiest instance's daily peak (the busiest five minutes); headroom is
what is left of the CPU below 100% at that peak. Its *site-loss CPU* is the busiest surviving
instance's CPU once the worst site is lost: the lost site's load spread evenly over the
surviving instances, on top of their own peaks. Sizing keeps the site-loss CPU, projected by
the trend and with ``buffer`` added, under the ceiling ``1 - headroom_target``, and never goes
below one instance per site (nor ``min_instances``). docs/capacity.md explains the advice.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from dashboard.analytics.calendar import MARKETS, is_trading_day, last_completed_trading_day
from datasources.base import empty_frame

HOURS_PER_MONTH = 730.0
PEAK_POINTS = 5  # the peak is the busiest run of this many consecutive samples
GB = 2.0**30
DEFAULTS = {
    "cpu_hour": 0.25,
    "gb_hour": 0.03,
    "instance_hour": 0.1,
    "cores_per_instance": 4.0,
    "headroom_target": 0.3,
    "buffer": 0.1,
    "low_utilisation": 0.25,
    "min_instances": 2,
    "currency": "CNY",
    "market": "cn",
    "services": {},
}
UNPLACED = ""  # the site of instances the ``instances`` frame does not place: counted as one site
PEAK_TZ = "Asia/Shanghai"  # the local day of a peak (Hong Kong's day too)
TREND_DAYS = 30  # the trend's span, up to the peak day
READ_DAYS = TREND_DAYS + 7  # the days of peaks a page reads: the trend's and a week for ``peak_day``'s fallback


def daily_peaks(resource_metrics: pd.DataFrame, tz: str = PEAK_TZ) -> pd.DataFrame:
    """Per local day and instance: peak CPU and memory (rolling means) and the memory limit.

    A missing or non-finite value (a scrape gap, an instance without a CPU quota) is left out; an
    instance with no value at all that day has no peak."""
    if resource_metrics.empty:
        return empty_frame("utilisation_peaks")
    owner = resource_metrics.drop_duplicates("instance").set_index("instance")["service"]
    columns = ["cpu_ratio", "memory_ratio", "memory_bytes"]
    values = resource_metrics[["ts", "instance", *columns]].replace([np.inf, -np.inf], np.nan)
    table = values.pivot_table(index="ts", columns="instance", values=columns, aggfunc="mean", dropna=False)
    wide = {column: table[column] for column in columns}  # one time index for all three
    day = table.index.tz_convert(tz).normalize().tz_convert("UTC")
    peak = {
        c: wide[c].rolling(PEAK_POINTS, min_periods=1).mean().groupby(day).max().stack().rename(c)
        for c in ("cpu_ratio", "memory_ratio")
    }
    limit = (wide["memory_bytes"] / wide["memory_ratio"].replace(0, np.nan)).groupby(day).median().stack()
    peaks = pd.concat([peak["cpu_ratio"], peak["memory_ratio"], limit.rename("memory_limit_bytes")], axis=1)
    peaks = peaks.rename_axis(["day", "instance"]).reset_index()
    peaks.insert(1, "service", peaks["instance"].map(owner))
    peaks["day"] = peaks["day"].astype("datetime64[ns, UTC]")
    for column in ("service", "instance"):
        peaks[column] = peaks[column].astype(object)
    return peaks


def merge_peaks(past: pd.DataFrame, recent: pd.DataFrame) -> pd.DataFrame:
    """Both peak frames as one: the higher peak where they share a day and instance."""
    parts = [p for p in (past, recent) if len(p)]
    if not parts:
        return empty_frame("utilisation_peaks")
    both = pd.concat(parts, ignore_index=True)
    merged = both.groupby(["day", "service", "instance"], as_index=False).agg(
        cpu_ratio=("cpu_ratio", "max"),
        memory_ratio=("memory_ratio", "max"),
        memory_limit_bytes=("memory_limit_bytes", "max"),
    )
    merged["day"] = merged["day"].astype("datetime64[ns, UTC]")
    return merged.astype({"service": object, "instance": object})


def placed_instances(instances: pd.DataFrame, stored: pd.DataFrame) -> pd.DataFrame:
    """The ``instances`` frame and, for instances it does not place, the site stored with their peaks
    (``x_site``, as ``dashboard.db.peaks.read`` gives it): an instance gone since keeps its site."""
    known = stored.loc[stored["x_site"].notna(), ["service", "instance", "x_site"]]
    known = known[~known["instance"].isin(instances["instance"])].drop_duplicates("instance", keep="last")
    return pd.concat([instances, known.rename(columns={"x_site": "site"})], ignore_index=True)


def _option(config: dict, service: str, key: str):
    return config.get("services", {}).get(service, {}).get(key, config.get(key, DEFAULTS[key]))


def instance_month_cost(config: dict, service: str, memory_gb: float) -> float:
    """What one instance of ``service`` costs a month."""
    hourly = (
        _option(config, service, "cores_per_instance") * config.get("cpu_hour", DEFAULTS["cpu_hour"])
        + memory_gb * config.get("gb_hour", DEFAULTS["gb_hour"])
        + config.get("instance_hour", DEFAULTS["instance_hour"])
    )
    return hourly * HOURS_PER_MONTH


def _local_days(peaks: pd.DataFrame, market: str) -> pd.Series:
    """The local calendar day, at ``market``, of each row's ``day``."""
    return peaks["day"].dt.tz_convert(MARKETS[market].tz).dt.date


def peak_day(peaks: pd.DataFrame, now: datetime, market: str) -> date | None:
    """The day whose peaks size the estate: the last completed trading day of ``market`` at ``now``, or when
    the peaks do not reach it, the latest earlier trading day they have; None without any."""
    latest = last_completed_trading_day(now, market)
    days = {d for d in _local_days(peaks, market).unique() if d <= latest and is_trading_day(d, market)}
    return max(days, default=None)


def site_loss(day_peaks: pd.DataFrame) -> pd.DataFrame:
    """Per service, the worst site loss: the busiest surviving instance's CPU once a site is lost and its
    load spread evenly over the survivors (``site_loss_cpu``), the site (``lost_site``), the survivors and
    the sites. A service at one site has nothing to fail over to: its site-loss CPU is its busiest peak.

    ``day_peaks``: one row per instance with service, site and cpu_ratio (instances without a CPU peak
    take no part)."""
    columns = ["service", "site_loss_cpu", "lost_site", "survivors", "sites"]
    known = day_peaks[day_peaks["cpu_ratio"].notna()]
    if known.empty:
        return pd.DataFrame(columns=columns)
    lost = known.groupby(["service", "site"], as_index=False).agg(lost_load=("cpu_ratio", "sum"))
    lost = lost.rename(columns={"site": "lost_site"})
    lost["sites"] = lost.groupby("service")["lost_site"].transform("size")
    pairs = known.merge(lost, on="service")
    survivors = pairs[(pairs["site"] != pairs["lost_site"]) | (pairs["sites"] < 2)]
    scenarios = survivors.groupby(["service", "lost_site"], as_index=False).agg(
        busiest=("cpu_ratio", "max"),
        survivors=("instance", "size"),
        lost_load=("lost_load", "first"),
        sites=("sites", "first"),
    )
    spread = (scenarios["lost_load"] / scenarios["survivors"]).where(scenarios["sites"] > 1, 0.0)
    scenarios["site_loss_cpu"] = scenarios["busiest"] + spread
    scenarios.loc[scenarios["sites"] < 2, "lost_site"] = None
    worst = scenarios.sort_values(["site_loss_cpu", "lost_site"], ascending=[False, True]).drop_duplicates("service")
    return worst[columns].reset_index(drop=True)


def services(
    peaks: pd.DataFrame, config: dict, day: date | None, instances: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Per service on ``day`` (see ``peak_day``): instances, sites, cost a month, the busiest instance's peak
    CPU and memory, headroom, site-loss CPU and the trend of the peak over the trading days of the
    ``TREND_DAYS`` up to ``day``; riskiest (highest site-loss CPU) first. ``instances`` (service, instance,
    site) places instances at sites."""
    columns = [
        "service",
        "instances",
        "sites",
        "memory_gb",
        "cost_month",
        "busiest",
        "cpu_peak",
        "memory_peak",
        "headroom",
        "site_loss_cpu",
        "lost_site",
        "survivors",
        "trend_month",
    ]
    market = config.get("market", DEFAULTS["market"])
    local = _local_days(peaks, market)
    if day is None or not (local == day).any():
        return pd.DataFrame(columns=columns)
    placed = peaks.assign(local=local).reset_index(drop=True)  # frames of several sources repeat index labels
    first = day - timedelta(days=TREND_DAYS)
    placed = placed[placed["local"].map(lambda d: first < d <= day and is_trading_day(d, market))]
    sites = instances.drop_duplicates("instance").set_index("instance")["site"] if instances is not None else None
    placed["site"] = placed["instance"].map(sites) if sites is not None else UNPLACED
    placed["site"] = placed["site"].astype(object).fillna(UNPLACED)
    on_day = placed[placed["local"] == day]
    busiest = on_day.loc[on_day["cpu_ratio"].fillna(-1.0).groupby(on_day["service"]).idxmax()]
    table = on_day.groupby("service").agg(
        instances=("instance", "nunique"),
        memory_peak=("memory_ratio", "max"),
        memory_gb=("memory_limit_bytes", "median"),
    )
    table["memory_gb"] /= GB
    table["busiest"] = busiest.set_index("service")["instance"]
    table["cpu_peak"] = on_day.groupby("service")["cpu_ratio"].max()
    table["headroom"] = 1.0 - table["cpu_peak"]
    table = table.join(site_loss(on_day).drop(columns="sites").set_index("service"))
    table["sites"] = on_day.groupby("service")["site"].nunique()
    table["cost_month"] = [
        n * instance_month_cost(config, service, gb)
        for service, n, gb in zip(table.index, table["instances"], table["memory_gb"])
    ]
    table["trend_month"] = _trends(placed)
    table = table.reset_index().sort_values(["site_loss_cpu", "service"], ascending=[False, True], na_position="last")
    return table[columns].reset_index(drop=True)


def _trends(placed: pd.DataFrame) -> pd.Series:
    """Per service, the slope of its busiest instance's daily CPU peak over the days given, in ratio points
    a month (30 days); NaN with fewer than two days of peaks."""
    daily = placed.groupby(["service", "day"])["cpu_ratio"].max().dropna().reset_index()
    slopes = {}
    for service, days in daily.groupby("service"):
        if len(days) > 1:
            x = (days["day"] - days["day"].iloc[0]).dt.total_seconds() / 86400
            slopes[service] = np.polyfit(x, days["cpu_ratio"], 1)[0] * 30
    return pd.Series(slopes, dtype=float)


def chains(table: pd.DataFrame, chain_frame: pd.DataFrame) -> pd.DataFrame:
    """Cost a month per chain, a shared service's cost split evenly between its chains, so the
    chains and ``(none)`` (services in no chain) add up to the estate's total; and each chain's
    smallest headroom."""
    members = chain_frame[["chain", "chain_name", "service"]].drop_duplicates(["chain", "service"])
    shares = members.merge(table, on="service")
    shares["cost_month"] /= shares.groupby("service")["chain"].transform("size")
    rolled = shares.groupby(["chain", "chain_name"], as_index=False).agg(
        cost_month=("cost_month", "sum"), headroom=("headroom", "min"), services=("service", "size")
    )
    alone = table[~table["service"].isin(members["service"])]
    if len(alone):
        rolled.loc[len(rolled)] = {
            "chain": "",
            "chain_name": "",
            "cost_month": alone["cost_month"].sum(),
            "headroom": alone["headroom"].min(),
            "services": len(alone),
        }
    return rolled


def survivors(instances: int, sites: int) -> int:
    """The instances left after losing the site with the most of them, ``instances`` spread evenly over
    ``sites``; with one site, all of them (there is no site loss to survive)."""
    return instances - math.ceil(instances / sites) if sites > 1 else instances


def needed_instances(site_loss_cpu: float, current_survivors: int, sites: int, ceiling: float, floor: int) -> int:
    """The fewest instances, spread evenly over ``sites`` and at least ``floor``, that keep the site-loss CPU
    (``site_loss_cpu`` with ``current_survivors`` survivors, the load spread over the survivors) at or under
    ``ceiling``."""
    wanted = current_survivors * site_loss_cpu / ceiling
    count = floor
    while survivors(count, sites) < wanted:
        count += 1
    return count


def recommend(table: pd.DataFrame, config: dict) -> pd.DataFrame:
    """Scale out, rebalance, scale in or right-size, with why (``why``: site_loss, one_site, floor, rebalance,
    scale_in, right_size), the figures behind it and the monthly effect; in ``table``'s order (riskiest first).

    Scale out when the site-loss CPU, projected by the trend, exceeds the ceiling ``1 - headroom_target``,
    or when there are fewer instances than the floor (``min_instances``, one per site); rebalance when it
    exceeds the ceiling but the instances there are would do, spread evenly over the sites; scale in when
    the busiest instance peaks under ``low_utilisation`` and fewer instances (never under the floor) keep
    the site-loss CPU with the buffer under the ceiling. ``monthly`` is positive for an added cost and
    negative for a saving. A service without a CPU peak gets no advice.
    """
    target, buffer = (
        config.get("headroom_target", DEFAULTS["headroom_target"]),
        config.get("buffer", DEFAULTS["buffer"]),
    )
    low = config.get("low_utilisation", DEFAULTS["low_utilisation"])
    ceiling = 1.0 - target
    rows = []
    for r in table[table["cpu_peak"].notna()].itertuples(index=False):
        per_instance = instance_month_cost(config, r.service, r.memory_gb)
        projected = r.site_loss_cpu + max(0.0, r.trend_month if r.trend_month == r.trend_month else 0.0)
        floor = max(int(config.get("min_instances", DEFAULTS["min_instances"])), r.sites)
        needed = needed_instances(projected * (1 + buffer), int(r.survivors), r.sites, ceiling, floor)
        base = {
            "service": r.service,
            "instances": r.instances,
            "sites": r.sites,
            "busiest": r.busiest,
            "cpu_peak": r.cpu_peak,
            "headroom": r.headroom,
            "site_loss_cpu": r.site_loss_cpu,
            "lost_site": r.lost_site,
            "ceiling": ceiling,
            "buffer": buffer,
            "target": target,
            "floor": floor,
        }
        over = projected > ceiling
        if needed > r.instances and (over or r.instances < floor):
            why = "floor" if not over else "site_loss" if r.sites > 1 else "one_site"
            rows.append(
                {
                    **base,
                    "action": "scale_out",
                    "why": why,
                    "to": needed,
                    "monthly": (needed - r.instances) * per_instance,
                }
            )
        elif over:
            rows.append({**base, "action": "rebalance", "why": "rebalance", "to": r.instances, "monthly": 0.0})
        elif needed < r.instances and r.cpu_peak < low:
            rows.append(
                {
                    **base,
                    "action": "scale_in",
                    "why": "scale_in",
                    "to": needed,
                    "monthly": (needed - r.instances) * per_instance,
                }
            )
        elif r.memory_peak < low:
            gb = max(1.0, math.ceil(r.memory_gb * r.memory_peak * (1 + buffer) / ceiling))
            if gb < r.memory_gb:
                saving = (gb - r.memory_gb) * config.get("gb_hour", DEFAULTS["gb_hour"]) * HOURS_PER_MONTH * r.instances
                rows.append({**base, "action": "right_size", "why": "right_size", "to": gb, "monthly": saving})
    return pd.DataFrame(
        rows,
        columns=[
            "service",
            "action",
            "why",
            "instances",
            "to",
            "sites",
            "busiest",
            "cpu_peak",
            "headroom",
            "site_loss_cpu",
            "lost_site",
            "ceiling",
            "buffer",
            "target",
            "floor",
            "monthly",
        ],
    )
