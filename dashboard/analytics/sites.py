"""Multi-active sites: each chain's traffic share and health per site, and instances by site.

Traffic is the instances' received bytes per second over the last ``RECENT_MINUTES``. A site's
share is compared per service with its even share (its instances over the service's): a site is
``crit`` when, for one of the chain's services, it carries under ``DRAINED`` of its even share or
one of its instances is CPU-saturated; ``warn`` under ``LOW`` or at ``BUSY_CPU``; else ``ok``.
Chains whose instances run at one site only have no site figures.

For the estate as a whole (``site_states``) a site is ``crit`` when it is *silent* (none of its
instances reported in the last ``RECENT_MINUTES`` while other sites' did) or *drained* (the median,
over its services, of its traffic over its even share is under ``DRAINED``), ``warn`` when that
median is under ``LOW``, else ``ok``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dashboard.analytics.drilldown import SATURATED_CPU

RECENT_MINUTES = 5
DRAINED, LOW = 0.25, 0.5
BUSY_CPU = 0.8
COLUMNS = ["chain", "site", "share", "status"]
STATE_COLUMNS = ["site", "status", "kind", "share", "even", "instances", "services"]


def instances_at(instances: pd.DataFrame, site: str | None) -> set[str] | None:
    """The instances at ``site``; None when no site is asked (no filter)."""
    if not site:
        return None
    return set(instances.loc[instances["site"] == site, "instance"])


def chain_sites(chains: pd.DataFrame, instances: pd.DataFrame, resources: pd.DataFrame) -> pd.DataFrame:
    """One row per (chain, site) of multi-site chains, chains in their order and sites sorted: share of the
    chain's traffic and status."""
    if instances.empty or resources.empty:
        return pd.DataFrame(columns=COLUMNS)
    recent = resources[resources["ts"] > resources["ts"].max() - pd.Timedelta(minutes=RECENT_MINUTES)]
    per_instance = recent.groupby("instance").agg(rx=("net_rx_bps", "mean"), cpu=("cpu_ratio", "max"))
    placed = instances.join(per_instance, on="instance")
    by_site = placed.groupby(["service", "site"]).agg(rx=("rx", "sum"), cpu=("cpu", "max"), n=("instance", "size"))
    totals = by_site.groupby(level="service")[["rx", "n"]].transform("sum")
    by_site["ratio"] = (by_site["rx"] / totals["rx"]) / (by_site["n"] / totals["n"])
    members = chains[["chain", "service"]].merge(by_site.reset_index(), on="service")
    members = members[members.groupby("chain")["site"].transform("nunique") >= 2]
    if members.empty:
        return pd.DataFrame(columns=COLUMNS)
    order = pd.Categorical(members["chain"], categories=pd.unique(members["chain"]), ordered=True)
    per = (
        members.assign(chain=order)
        .groupby(["chain", "site"], observed=True)
        .agg(rx=("rx", "sum"), ratio=("ratio", "min"), cpu=("cpu", "max"))
    )
    total = per.groupby(level="chain", observed=True)["rx"].transform("sum")
    crit = (per["ratio"] < DRAINED) | (per["cpu"] >= SATURATED_CPU)
    warn = (per["ratio"] < LOW) | (per["cpu"] >= BUSY_CPU)
    status = np.select([per["ratio"].isna(), crit, warn], ["nodata", "crit", "warn"], "ok")
    share = (per["rx"] / total).where(total > 0, 0.0).astype(float)
    out = per.index.to_frame(index=False).assign(share=share.to_numpy(), status=status)
    return out.assign(chain=out["chain"].astype(str))[COLUMNS]


def wall_sites(layout: list[dict], figures: pd.DataFrame) -> list[list[list]]:
    """Per chain in wall order: [site, share as a whole percent, status] per site."""
    by_chain: dict[str, list[list]] = {}
    columns = (figures[c].tolist() for c in ("chain", "site", "share", "status"))
    for chain, site, share, status in zip(*columns):
        by_chain.setdefault(chain, []).append([site, f"{share:.0%}", status])
    return [by_chain.get(c["chain"], []) for c in layout]


def site_states(instances: pd.DataFrame, resources: pd.DataFrame) -> pd.DataFrame:
    """One row per site of a multi-site estate: status, kind (ok, low, drained, silent), its share of the
    traffic, its even share (its share of the instances), its instance count and how many services run there."""
    if instances.empty or instances["site"].nunique() < 2 or resources.empty:
        return pd.DataFrame(columns=STATE_COLUMNS)
    recent = resources[resources["ts"] > resources["ts"].max() - pd.Timedelta(minutes=RECENT_MINUTES)]
    per_instance = recent.groupby("instance").agg(rx=("net_rx_bps", "mean"), rows=("ts", "size"))
    placed = instances.join(per_instance, on="instance")
    by_service = placed.groupby(["service", "site"]).agg(rx=("rx", "sum"), n=("instance", "size"))
    totals = by_service.groupby(level="service")[["rx", "n"]].transform("sum")
    ratio = ((by_service["rx"] / totals["rx"]) / (by_service["n"] / totals["n"])).where(totals["rx"] > 0)
    by_site = placed.groupby("site").agg(
        rx=("rx", "sum"), n=("instance", "size"), reporting=("rows", "count"), services=("service", "nunique")
    )
    by_site["ratio"] = ratio.groupby(level="site").median()
    rows = []
    for site, at in by_site.iterrows():
        others_report = by_site["reporting"].drop(index=site).sum() > 0
        if at["reporting"] == 0 and others_report:
            status, kind = "crit", "silent"
        elif pd.isna(at["ratio"]):
            status, kind = "nodata", "nodata"
        else:
            status, kind = (
                ("crit", "drained")
                if at["ratio"] < DRAINED
                else (("warn", "low") if at["ratio"] < LOW else ("ok", "ok"))
            )
        total = by_site["rx"].sum()
        rows.append(
            (
                site,
                status,
                kind,
                float(at["rx"] / total) if total else 0.0,
                float(at["n"] / by_site["n"].sum()),
                int(at["n"]),
                int(at["services"]),
            )
        )
    return pd.DataFrame(rows, columns=STATE_COLUMNS)
