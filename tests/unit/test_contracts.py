"""validate(): the demo frames pass; each kind of violation is named by frame and column."""

import pandas as pd
import pytest

from datasources.base import (
    COMMAND_FRAMES,
    CONTRACTS,
    DERIVED_FRAMES,
    DUTY_FRAMES,
    FRAME_NAMES,
    SLO_FRAMES,
    VIEW_FRAMES,
    ContractError,
    empty_frame,
    validate,
)
from datasources.demo import DemoSource

NOW = pd.Timestamp("2026-11-18 02:05", tz="UTC").to_pydatetime()


@pytest.fixture(scope="module")
def demo_frames():
    return DemoSource(name="demo").fetch(NOW)


def test_demo_frames_pass(demo_frames):
    assert set(demo_frames) == set(FRAME_NAMES) - {
        "source_status",
        "log_lines",
        *DERIVED_FRAMES,
        *VIEW_FRAMES,
        *COMMAND_FRAMES,
        *DUTY_FRAMES,
        *SLO_FRAMES,
    }
    for name, frame in demo_frames.items():
        assert len(validate(name, frame)) == len(frame) > 0, name


@pytest.mark.parametrize("name", FRAME_NAMES)
def test_empty_frames_pass(name):
    assert list(validate(name, empty_frame(name)).columns) == [c.name for c in CONTRACTS[name]]


def _broken(demo_frames, name, mutate):
    frame = demo_frames[name].copy()
    mutate(frame)
    with pytest.raises(ContractError) as info:
        validate(name, frame)
    return info.value


def test_missing_column(demo_frames):
    err = _broken(demo_frames, "incidents", lambda f: f.__delitem__("priority"))
    assert (err.frame, err.column) == ("incidents", "priority") and "missing" in str(err)


def test_unprefixed_extra_column(demo_frames):
    err = _broken(demo_frames, "services", lambda f: f.insert(0, "colour", "red"))
    assert err.column == "colour" and "x_" in str(err)


def test_prefixed_extra_column_allowed(demo_frames):
    frame = demo_frames["services"].assign(x_cost_centre="cc-1")
    assert "x_cost_centre" in validate("services", frame).columns


def test_wrong_dtype(demo_frames):
    err = _broken(demo_frames, "service_metrics", lambda f: f.__setitem__("requests_per_s", "many"))
    assert err.column == "requests_per_s" and "float" in str(err)


def test_naive_timestamp(demo_frames):
    err = _broken(demo_frames, "service_metrics", lambda f: f.__setitem__("ts", f["ts"].dt.tz_localize(None)))
    assert err.column == "ts" and "UTC" in str(err)


def test_null_in_required_column(demo_frames):
    err = _broken(demo_frames, "calls", lambda f: f.__setitem__("trace_id", None))
    assert err.column == "trace_id" and "null" in str(err)


def test_value_outside_enum(demo_frames):
    err = _broken(demo_frames, "incidents", lambda f: f.__setitem__("state", "exploded"))
    assert err.column == "state" and "exploded" in str(err)


def test_value_outside_bounds(demo_frames):
    err = _broken(demo_frames, "incidents", lambda f: f.__setitem__("priority", 9))
    assert err.column == "priority" and "outside" in str(err)


def test_not_a_frame():
    with pytest.raises(ContractError, match="frame alerts: expected a pandas DataFrame"):
        validate("alerts", [{"alert_id": "a"}])


def test_unknown_frame():
    with pytest.raises(ContractError, match="unknown frame"):
        validate("weather", pd.DataFrame())
