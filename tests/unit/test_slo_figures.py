"""The /slo burn-down: each chain's budget left at the end of each day, and a plain note before any event."""

import pandas as pd
import pytest

from dashboard.figures.slo import burn_down


def test_the_burn_down_ends_at_the_budget_left():
    days = pd.DataFrame(
        {
            "chain": ["pay", "pay", "fx"],
            "objective": ["availability"] * 3,
            "day": pd.to_datetime(["2026-11-16", "2026-11-17", "2026-11-17"], utc=True),
            "total": [1e6, 1e6, 1e6],
            "bad": [2500.0, 5000.0, 0.0],
        }
    )
    fig = burn_down(days, {"pay": 0.995, "fx": 0.999, "none": 0.99}, {"pay": "Payments"})
    pay, fx = fig.data
    assert pay.name == "Payments" and fx.name == "fx"  # a chain without events draws no line
    assert list(pay.y) == pytest.approx([0.75, 0.25])  # budget 0.005 * 2e6 = 10,000 bad events
    assert list(fx.y) == [1.0]


def test_no_event_yet_is_said_not_drawn():
    fig = burn_down(pd.DataFrame(columns=["chain", "objective", "day", "total", "bad"]), {"pay": 0.995}, {}, "zh")
    assert not fig.data and fig.layout.annotations[0].text == "尚无交易时段内的事件"


def test_chains_on_the_same_line_share_it_and_name_it_together():
    """Three chains all but at 100% left (Loans 0.5% below): one line named after all three, not three lines of
    which only the last shows; a chain burning its budget keeps its own line; hovering a day lists them all."""
    chains = ["pay", "fx", "bonds", "loans"]
    days = pd.DataFrame(
        {
            "chain": [c for c in chains for _ in range(2)],
            "objective": "availability",
            "day": pd.to_datetime(["2026-11-16", "2026-11-17"] * 4, utc=True),
            "total": 1e6,
            "bad": [0.0, 0.0, 0.0, 0.0, 1000.0, 1000.0, 10.0, 0.0],
        }
    )
    targets = dict.fromkeys(chains, 0.999)
    names = {"pay": "Payments", "fx": "FX", "bonds": "Bonds", "loans": "Loans"}
    fig = burn_down(days, targets, names)
    assert [trace.name for trace in fig.data] == ["Payments, FX, Loans", "Bonds"]
    assert list(fig.data[0].y) == [1.0, 1.0] and list(fig.data[1].y) == pytest.approx([0.5, 0.0])
    assert len({trace.line.color for trace in fig.data}) == len({trace.marker.symbol for trace in fig.data}) == 2
    assert fig.layout.hovermode == "x unified"
    assert burn_down(days, targets, names, "zh").data[0].name == "Payments、FX、Loans"
