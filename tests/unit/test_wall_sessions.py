"""The words the wall's header gives a market's session: its phase, or "Closed:" and why."""

from dataclasses import asdict

import pytest

from dashboard.analytics.calendar import PHASES, Session
from dashboard.i18n import CATALOG
from layouts.pages.wall import _session_text


@pytest.mark.parametrize(
    "session, en, zh",
    [
        (Session("opening_auction_no_cancel"), "Opening auction, no cancels", "集合竞价(不可撤单)"),
        (Session("closing_auction"), "Closing auction", "收盘集合竞价"),
        (Session("night"), "Night session", "夜盘"),
        (Session("closed"), "Closed", "休市"),
        (Session("closed", "holiday", "National Day"), "Closed: National Day", "休市:国庆节"),
        (Session("closed", "holiday", "Some New Day"), "Closed: Some New Day", "休市:Some New Day"),
        (Session("closed", "holiday", ""), "Closed: holiday", "休市:节假日"),
        (Session("closed", "half_day"), "Closed: half-day", "休市:半日市"),
        (
            Session("closed", "closure", "Typhoon signal No. 8"),
            "Closed: Typhoon signal No. 8",
            "休市:Typhoon signal No. 8",
        ),
    ],
)
def test_session_words(session, en, zh):
    assert _session_text(asdict(session), "en") == en
    assert _session_text(asdict(session), "zh") == zh


def test_every_phase_has_words_in_both_languages():
    assert all({"en", "zh"} <= set(CATALOG[f"session.{phase}"]) for phase in PHASES)
