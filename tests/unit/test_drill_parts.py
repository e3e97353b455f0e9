"""What the drill-down pages share: the digest of the rows a page shows."""

import pandas as pd

from layouts.components import drill_parts as parts

T0 = pd.Timestamp("2026-11-18 01:00", tz="UTC")


def _calls(**changed) -> pd.DataFrame:
    columns = {
        "trace_id": pd.array(["a", "b"], dtype="str"),
        "start": [T0, T0 + pd.Timedelta(seconds=1)],
        "duration_ms": [12.5, 800.0],
        "instance": pd.array(["i-1", None], dtype="str"),
        "failed": [False, True],
        "reasons": [("latency",), ()],
    }
    return pd.DataFrame({**columns, **changed})


def test_the_same_rows_have_the_same_digest_whatever_their_index():
    assert parts.digest(_calls(), _calls().iloc[0:0]) == parts.digest(_calls().set_axis([7, 3]), _calls().iloc[0:0])


def test_any_value_changed_changes_the_digest():
    before = parts.digest(_calls())
    for changed in (
        {"trace_id": ["a", "c"]},
        {"start": [T0, T0 + pd.Timedelta(seconds=2)]},
        {"duration_ms": [12.5, 800.1]},
        {"instance": ["i-1", "i-2"]},
        {"failed": [False, False]},
        {"reasons": [("errors",), ()]},
    ):
        assert parts.digest(_calls(**changed)) != before, changed
    assert parts.digest(_calls().iloc[:1]) != before


def test_a_missing_value_is_no_text_and_values_do_not_run_into_each_other():
    for missing, text in (
        (pd.array([None, "x"], dtype="str"), pd.array(["nan", "x"], dtype="str")),
        (pd.array([None, "x"], dtype="str"), pd.array(["None", "x"], dtype="str")),
        (pd.Series([None, "x"], dtype=object), pd.Series(["None", "x"], dtype=object)),
        (pd.Series([float("nan"), "x"], dtype=object), pd.Series(["nan", "x"], dtype=object)),
        (pd.Series([pd.NaT, "x"], dtype=object), pd.Series(["NaT", "x"], dtype=object)),
    ):
        assert parts.digest(pd.DataFrame({"v": missing})) != parts.digest(pd.DataFrame({"v": text})), (missing, text)
    for column in (pd.array, lambda values: pd.Series(values, dtype=object)):
        shifted = (column(["a\x1fb", "c"]), column(["a", "b\x1fc"]))
        assert parts.digest(pd.DataFrame({"v": shifted[0]})) != parts.digest(pd.DataFrame({"v": shifted[1]}))
