"""Capacity and cost: daily utilisation peaks, cost per service and chain, headroom and recommendations.

Pure functions of frames and the ``capacity:`` settings. A service's peak is the mean
over its instances of each instance's daily peak (the busiest five minutes, at the
market open on a trading day); headroom is what is left of the CPU below 100% at that
peak. Sizing keeps ``headroom_target`` free after adding ``buffer`` to the peak.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from datasources.base import empty_frame

HOURS_PER_MONTH = 730.0
PEAK_POINTS = 5  # the peak is the busiest run of this many consecutive samples
GB = 2.0**30
DEFAULTS = {"cpu_hour": 0.25, "gb_hour": 0.03, "instance_hour": 0.1, "cores_per_instance": 4.0,
            "headroom_target": 0.3, "buffer": 0.1, "low_utilisation": 0.25, "min_instances": 2,
            "currency": "CNY", "services": {}}


def daily_peaks(resource_metrics: pd.DataFrame, tz: str = "Asia/Shanghai") -> pd.DataFrame:
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
    peak = {c: wide[c].rolling(PEAK_POINTS, min_periods=1).mean().groupby(day).max().stack().rename(c)
            for c in ("cpu_ratio", "memory_ratio")}
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
        cpu_ratio=("cpu_ratio", "max"), memory_ratio=("memory_ratio", "max"),
        memory_limit_bytes=("memory_limit_bytes", "max"))
    merged["day"] = merged["day"].astype("datetime64[ns, UTC]")
    return merged.astype({"service": object, "instance": object})


def _option(config: dict, service: str, key: str):
    return config.get("services", {}).get(service, {}).get(key, config.get(key, DEFAULTS[key]))


def instance_month_cost(config: dict, service: str, memory_gb: float) -> float:
    """What one instance of ``service`` costs a month."""
    hourly = (_option(config, service, "cores_per_instance") * config.get("cpu_hour", DEFAULTS["cpu_hour"])
              + memory_gb * config.get("gb_hour", DEFAULTS["gb_hour"])
              + config.get("instance_hour", DEFAULTS["instance_hour"]))
    return hourly * HOURS_PER_MONTH


def services(peaks: pd.DataFrame, config: dict, tz: str = "Asia/Shanghai") -> pd.DataFrame:
    """Per service on the latest trading day: instances, cost a month, peak CPU and memory, headroom, trend."""
    columns = ["service", "instances", "memory_gb", "cost_month", "cpu_peak", "memory_peak", "headroom",
               "trend_month"]
    trading = peaks[peaks["day"].dt.tz_convert(tz).dt.day_of_week < 5]
    if trading.empty:
        return pd.DataFrame(columns=columns)
    by_day = trading.groupby(["service", "day"], as_index=False).agg(
        instances=("instance", "nunique"), cpu_peak=("cpu_ratio", "mean"), memory_peak=("memory_ratio", "mean"),
        memory_gb=("memory_limit_bytes", "median"))
    rows = []
    for service, days in by_day.groupby("service", sort=True):
        latest, known = days.iloc[-1], days[days["cpu_peak"].notna()]
        slope = np.polyfit((known["day"] - known["day"].iloc[0]).dt.total_seconds() / 86400, known["cpu_peak"], 1)[0] \
            if len(known) > 1 else np.nan
        memory_gb = float(latest["memory_gb"]) / GB
        rows.append({"service": service, "instances": int(latest["instances"]), "memory_gb": memory_gb,
                     "cost_month": int(latest["instances"]) * instance_month_cost(config, service, memory_gb),
                     "cpu_peak": float(latest["cpu_peak"]), "memory_peak": float(latest["memory_peak"]),
                     "headroom": 1.0 - float(latest["cpu_peak"]), "trend_month": slope * 30})
    return pd.DataFrame(rows, columns=columns)


def chains(table: pd.DataFrame, chain_frame: pd.DataFrame) -> pd.DataFrame:
    """Cost a month per chain, a shared service's cost split evenly between its chains, so the
    chains and ``(none)`` (services in no chain) add up to the estate's total; and each chain's
    smallest headroom."""
    members = chain_frame[["chain", "chain_name", "service"]].drop_duplicates(["chain", "service"])
    shares = members.merge(table, on="service")
    shares["cost_month"] /= shares.groupby("service")["chain"].transform("size")
    rolled = shares.groupby(["chain", "chain_name"], as_index=False).agg(
        cost_month=("cost_month", "sum"), headroom=("headroom", "min"), services=("service", "size"))
    alone = table[~table["service"].isin(members["service"])]
    if len(alone):
        rolled.loc[len(rolled)] = {"chain": "", "chain_name": "", "cost_month": alone["cost_month"].sum(),
                                   "headroom": alone["headroom"].min(), "services": len(alone)}
    return rolled


def recommend(table: pd.DataFrame, config: dict) -> pd.DataFrame:
    """Scale out, scale in or right-size, with the figures behind each, the buffer and the monthly effect.

    ``monthly`` is positive for an added cost and negative for a saving. A service without a CPU peak
    gets no advice.
    """
    target, buffer = config.get("headroom_target", DEFAULTS["headroom_target"]), config.get("buffer", DEFAULTS["buffer"])
    low, floor = config.get("low_utilisation", DEFAULTS["low_utilisation"]), int(config.get("min_instances", DEFAULTS["min_instances"]))
    rows = []
    for r in table[table["cpu_peak"].notna()].itertuples(index=False):
        per_instance = instance_month_cost(config, r.service, r.memory_gb)
        projected = max(r.cpu_peak, r.cpu_peak + (r.trend_month if r.trend_month == r.trend_month else 0.0))
        needed = max(floor, math.ceil(r.instances * projected * (1 + buffer) / (1 - target)))
        base = {"service": r.service, "instances": r.instances, "cpu_peak": r.cpu_peak, "headroom": r.headroom,
                "buffer": buffer, "target": target}
        if needed > r.instances:
            rows.append({**base, "action": "scale_out", "to": needed, "monthly": (needed - r.instances) * per_instance})
        elif needed < r.instances and r.cpu_peak < low:
            rows.append({**base, "action": "scale_in", "to": needed, "monthly": (needed - r.instances) * per_instance})
        elif r.memory_peak < low:
            gb = max(1.0, math.ceil(r.memory_gb * r.memory_peak * (1 + buffer) / (1 - target)))
            if gb < r.memory_gb:
                saving = (gb - r.memory_gb) * config.get("gb_hour", DEFAULTS["gb_hour"]) * HOURS_PER_MONTH * r.instances
                rows.append({**base, "action": "right_size", "to": gb, "monthly": saving})
    return pd.DataFrame(rows, columns=["service", "action", "instances", "to", "cpu_peak", "headroom", "buffer",
                                       "target", "monthly"])
