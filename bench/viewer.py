"""One simulated wall viewer: the requests a browser showing /wall sends on each tick.

Each tick is the versions callback; when the versions changed, the wall refresh callback
follows with the keys the previous answer returned, as the browser does. The requests are
the Dash callback requests themselves, built from the wall's layout, so the server does
exactly the work a real viewer causes.
"""

from __future__ import annotations

from dash.development.base_component import Component

from dashboard import ids
from layouts.pages import wall

WILDCARD_TYPES = {
    "kpi_values": ids.KPI_VALUE,
    "kpi_counts": ids.KPI_COUNT,
    "panel_classes": ids.PANEL,
    "stale_labels": ids.STALE_LABEL,
}
PROPERTIES = {
    "model": "data",
    "kpi_values": "children",
    "kpi_counts": "children",
    "panel_classes": "className",
    "stale_labels": "children",
}
PLAIN_IDS = {
    "model": ids.WALL_MODEL,
    "chains": ids.WALL_CHAINS,
    "sites": ids.WALL_SITES,
    "alerts": ids.WALL_ALERTS,
    "alert_count": ids.WALL_ALERT_COUNT,
    "incidents": ids.WALL_INCIDENTS,
    "incident_count": ids.WALL_INCIDENT_COUNT,
    "banner": ids.WALL_BANNER,
    "changes": ids.WALL_CHANGES,
    "chaos": ids.WALL_CHAOS,
}


def _components(page: Component) -> list[Component]:
    return [page, *page._traverse()]


class WallRequests:
    """The bodies of the two callback requests, from a rendering of the wall (``wall.layout()``)."""

    def __init__(self, page: Component, callback_map: dict):
        components = _components(page)
        by_type: dict[str, list[dict]] = {}
        for c in components:
            cid = getattr(c, "id", None)
            if isinstance(cid, dict):
                by_type.setdefault(cid["type"], []).append(cid)
        self.keys = next(c.data for c in components if getattr(c, "id", None) == ids.WALL_KEYS)
        self.lang = next(c.data for c in components if getattr(c, "id", None) == ids.WALL_LANG)
        self.output = next(k for k in callback_map if f"{ids.WALL_KEYS}.data" in k)
        self.outputs = []
        for name in wall.OUTPUTS:
            if name in WILDCARD_TYPES:
                self.outputs.append([{"id": i, "property": PROPERTIES[name]} for i in by_type[WILDCARD_TYPES[name]]])
            else:
                self.outputs.append({"id": PLAIN_IDS[name], "property": PROPERTIES.get(name, "children")})
        self.outputs.append({"id": ids.WALL_KEYS, "property": "data"})

    @staticmethod
    def versions(tick: int, known: dict | None) -> dict:
        """The versions callback's request body."""
        return {
            "output": f"{ids.VERSIONS}.data",
            "outputs": {"id": ids.VERSIONS, "property": "data"},
            "inputs": [{"id": ids.TICK, "property": "n_intervals", "value": tick}],
            "state": [{"id": ids.VERSIONS, "property": "data", "value": known}],
            "changedPropIds": [f"{ids.TICK}.n_intervals"],
        }

    def refresh(self, versions: dict, keys: dict) -> dict:
        """The wall refresh callback's request body for ``versions``, the browser holding ``keys``."""
        return {
            "output": self.output,
            "outputs": self.outputs,
            "inputs": [{"id": ids.VERSIONS, "property": "data", "value": versions}],
            "state": [
                {"id": ids.WALL_KEYS, "property": "data", "value": keys},
                {"id": ids.WALL_LANG, "property": "data", "value": self.lang},
            ],
            "changedPropIds": [f"{ids.VERSIONS}.data"],
        }


def answered(response: dict, component: str, prop: str = "data"):
    """The value a callback response sets on ``component.prop``, or None when it left it unchanged."""
    return response.get("response", {}).get(component, {}).get(prop)
