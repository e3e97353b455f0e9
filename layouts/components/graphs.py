"""How every page shows a Plotly figure: sized in units that follow the viewport, like its text."""

from __future__ import annotations

from dash import dcc


def graph(component_id: str, height: str, figure=None, modebar: bool | str = False) -> dcc.Graph:
    """A figure ``height`` tall and as wide as its container.

    Give ``height`` in rem or vh, never px: both follow the viewport, as the figure's text does
    (``assets/figures.js`` scales it to the page's type size), so a 4K wall draws the chart a
    1080p desk draws, larger, without crowding it. ``modebar``: Plotly's ``displayModeBar``.
    """
    return dcc.Graph(
        id=component_id,
        responsive=True,
        style={"height": height},
        className="oc-figure",
        config={"displaylogo": False, "displayModeBar": modebar},
        **({"figure": figure} if figure is not None else {}),
    )
