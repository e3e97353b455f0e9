"""/sources: a row per configured source, and one per source's derived step once it has run."""

from layouts.pages import sources
from tests.demo_app import polled_demo_app


def test_the_derived_step_has_its_row_with_its_error():
    app = polled_demo_app()
    store = app.server.extensions["opscenter"].store
    store.set_status(
        "derived:demo",
        {
            "source": "derived:demo",
            "kind": "derived",
            "interval_s": 30,
            "last_attempt": "2026-11-18T06:00:00+00:00",
            "last_success": None,
            "ok": False,
            "error": "ValueError: cannot derive",
            "failures": 1,
            "rows": 0,
        },
    )
    with app.server.test_request_context("/sources"):
        rows = {row["source"]: row for row in sources.rows("en")}
        page = str(sources.layout())
    assert rows["derived:demo"]["kind"] == "derived" and rows["derived:demo"]["state_key"] == "stale"
    assert rows["derived:demo"]["error"] == "ValueError: cannot derive"
    assert "1 of 1 sources healthy" in page  # the summary counts the configured sources


def test_a_fresh_source_s_warning_is_shown_where_an_error_would_be():
    app = polled_demo_app()
    store = app.server.extensions["opscenter"].store
    warning = "demo: 1 ticket(s) with RT priority 1-5 read as P1-P5 as before: RT-30; set priority_map"
    store.set_status("demo", {**store.status("demo"), "warning": warning})
    with app.server.test_request_context("/sources"):
        (row,) = [row for row in sources.rows("en") if row["source"] == "demo"]
    assert (row["state_key"], row["error"]) == ("fresh", warning)
