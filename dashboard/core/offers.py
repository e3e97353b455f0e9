"""What the configuration delivers once polled: its sources' frames, its business chains, the derived frames."""

from __future__ import annotations

import pandas as pd

from datasources import registry
from datasources.base import DERIVED_FRAMES, METRIC_FRAMES, validate


def config_frames(chains: list[dict]) -> dict[str, pd.DataFrame]:
    """Turn the config's business chains into a chains frame (``name_zh`` as ``x_chain_name_zh``)."""
    rows = [
        {
            "chain": c["chain"],
            "chain_name": c.get("name", c["chain"]),
            "step": i,
            "service": s,
            "x_chain_name_zh": c.get("name_zh"),
        }
        for c in chains
        for i, s in enumerate(c["steps"], start=1)
    ]
    return {"chains": validate("chains", pd.DataFrame(rows))} if rows else {}


def offered_frames(specs: list[dict], chains: list[dict]) -> frozenset[str]:
    """Every frame the configuration delivers once polled: its sources', the config's business chains,
    and the frames the poller derives from metrics."""
    frames = set().union(*(registry.offers(spec) for spec in specs)) | set(config_frames(chains))
    return frozenset(frames | set(DERIVED_FRAMES) if frames & set(METRIC_FRAMES) else frames)


def sources_offering(specs: list[dict], frames: frozenset[str]) -> tuple[str, ...]:
    """The names of the configured sources that deliver any of ``frames``: whose versions a result read from
    those frames alone depends on."""
    return tuple(spec["name"] for spec in specs if registry.offers(spec) & frames)
