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
