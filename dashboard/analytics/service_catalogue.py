"""The service catalogue: every service with its owner, targets, dependencies, chains, health
and open incidents; and the standard service requests with their fulfilment figures.

Pure functions of frames. Request items come from the ``service_requests`` frame (an ITSM's
requests) and from the config's ``service_requests`` list (items offered, even if never asked).
"""

from __future__ import annotations

import pandas as pd

from dashboard.analytics import incidents as incident_stats

SERVICE_COLUMNS = [
    "service",
    "display_name",
    "owner",
    "tier",
    "p95_target_ms",
    "error_target",
    "runbook_url",
    "depends_on",
    "chains",
    "status",
    "open_incidents",
]
REQUEST_COLUMNS = ["item", "category", "target_h", "requests", "open", "median_h", "in_target"]


def services_table(
    services: pd.DataFrame,
    chains: pd.DataFrame,
    edges: pd.DataFrame,
    evaluated: pd.DataFrame,
    incidents: pd.DataFrame,
    now: pd.Timestamp,
) -> pd.DataFrame:
    """One row per service; ``depends_on``, ``chains`` and ``open_incidents`` are lists."""
    if services.empty:
        return pd.DataFrame(columns=SERVICE_COLUMNS)
    callees = edges.groupby("caller")["callee"].agg(lambda s: sorted(set(s)))
    member_of = chains.drop_duplicates(["chain", "service"]).groupby("service")["chain_name"].agg(list)
    open_ids = incident_stats.active(incidents, now).groupby("service")["incident_id"].agg(list)
    frame = services.merge(evaluated[["service", "p95_target_ms", "error_target", "status"]], on="service", how="left")
    frame["status"] = frame["status"].fillna("nodata")
    for column, values in (("depends_on", callees), ("chains", member_of), ("open_incidents", open_ids)):
        frame[column] = [values.get(s, []) for s in frame["service"]]
    return frame.sort_values(["tier", "service"], kind="stable")[SERVICE_COLUMNS].reset_index(drop=True)


def request_figures(requests: pd.DataFrame, offered: list[dict]) -> pd.DataFrame:
    """Per item: requests, open, median fulfilment hours and the share fulfilled within target."""
    done = requests[requests["state"] == "fulfilled"]
    hours = (done["fulfilled_at"] - done["opened_at"]).dt.total_seconds() / 3600
    met = (hours <= done["target_h"]).where(done["target_h"].notna())
    by_item = pd.DataFrame(
        {
            "requests": requests.groupby("item").size(),
            "open": requests["state"].eq("open").groupby(requests["item"]).sum(),
            "median_h": hours.groupby(done["item"]).median(),
            "in_target": met.groupby(done["item"]).mean(),
            "category": requests.groupby("item")["category"].first(),
            "target_h": requests.groupby("item")["target_h"].max(),
        }
    )
    configured = pd.DataFrame(
        [{"item": i["item"], "category": i.get("category"), "target_h": i.get("target_h")} for i in offered],
        columns=["item", "category", "target_h"],
    ).set_index("item")
    frame = by_item.combine_first(configured) if len(configured) else by_item
    frame[["requests", "open"]] = frame[["requests", "open"]].fillna(0).astype("int64")
    frame = frame.rename_axis("item").reset_index()
    return frame.sort_values(["category", "item"], na_position="last", kind="stable")[REQUEST_COLUMNS].reset_index(
        drop=True
    )
