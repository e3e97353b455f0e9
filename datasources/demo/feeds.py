"""The demo's market-data feeds as the ``feed_status`` frame: per market, feed and site, the age of the last
tick, the sequence gaps of the last five minutes and the messages per second, at one moment.

A feed ticks only while its market is live (``calendar.feed_live``: auctions and continuous trading, not
pre-open, lunch, nights or holidays), so outside a session its last tick is the end of its last live minute
and its age grows on its own. In a stall (the caller passes the stall windows, the site and the market) that
market's feeds at that site stop ticking, and when they tick again they count a burst of sequence gaps.
Every value is a pure function of the seed and the moment.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import lru_cache

import numpy as np
import pandas as pd

from dashboard.analytics.calendar import FEED_MARKETS, feed_live

FEEDS = {  # market -> (feed, messages per second while live)
    "SSE": (("sse-level1", 900.0), ("sse-level2", 4200.0)),
    "SZSE": (("szse-level1", 800.0), ("szse-level2", 3900.0)),
    "HKEX": (("hkex-omd", 2600.0),),
    "futures": (("ctp-market", 1500.0),),
    "indices": (("csi-index", 40.0),),
}
GAP_CHANCE = 0.02  # a live minute with one sequence gap
GAP_BURST = 25  # gaps counted in the first minute after a stall, when the sequence jumps
GAP_WINDOW_M = 5
SEARCH_DAYS = 30  # how far back a last tick is looked for (the longest exchange holiday is 9 days)
MINUTE_S, DAY_M = 60, 1440


@lru_cache(maxsize=512)
def _live_day(market: str, day: int) -> np.ndarray:
    """Whether the market's feeds tick in each minute of UTC day ``day`` (days since the epoch)."""
    start = day * DAY_M
    return np.array(
        [feed_live(market, datetime.fromtimestamp((start + m) * MINUTE_S, UTC)) for m in range(DAY_M)], dtype=bool
    )


def _ticking(market: str, minutes: np.ndarray, stalls: Sequence[tuple[int, int]]) -> np.ndarray:
    """Whether the feed ticks in each of ``minutes`` (minutes since the epoch, within one UTC day), given the
    ``stalls`` ([start, end) in epoch seconds) at its site."""
    live = _live_day(market, int(minutes[0] // DAY_M))[minutes % DAY_M]
    return live & ~_stalled(minutes, stalls)


def _stalled(minutes: np.ndarray, stalls: Sequence[tuple[int, int]]) -> np.ndarray:
    seconds = minutes * MINUTE_S
    out = np.zeros(minutes.shape, dtype=bool)
    for start, end in stalls:
        out |= (seconds >= start) & (seconds < end)
    return out


def last_tick_minute(market: str, minute: int, stalls: Sequence[tuple[int, int]] = ()) -> int | None:
    """The latest minute at or before ``minute`` in which the feed ticked; None within ``SEARCH_DAYS``."""
    for back in range(SEARCH_DAYS):
        day = minute // DAY_M - back
        minutes = np.arange(day * DAY_M, min((day + 1) * DAY_M, minute + 1))
        found = np.flatnonzero(_ticking(market, minutes, stalls))
        if found.size:
            return int(minutes[found[-1]])
    return None


def _unit(*parts: object) -> float:
    """A deterministic number in [0, 1) from ``parts``."""
    return zlib.crc32("|".join(map(str, parts)).encode()) / 2**32


def _gaps(market: str, key: str, minute: int, stalls: Sequence[tuple[int, int]]) -> float:
    """Sequence gaps in the ``GAP_WINDOW_M`` minutes up to ``minute``: the odd lost message, and a burst when
    the feed ticks again after a stall."""
    minutes = np.arange(minute - GAP_WINDOW_M, minute + 1)
    ticking = np.concatenate(
        [_ticking(market, minutes[minutes // DAY_M == d], stalls) for d in np.unique(minutes // DAY_M)]
    )
    recovered = ticking[1:] & _stalled(minutes[:-1], stalls)
    odd = ticking[1:] & (np.array([_unit(key, m) for m in minutes[1:]]) < GAP_CHANCE)
    return float(recovered.sum() * GAP_BURST + odd.sum())


def feed_status(
    now_s: int,
    seed: int,
    sites: Sequence[str],
    stalls: Sequence[tuple[int, int]] = (),
    stall_site: str | None = None,
    stall_market: str | None = None,
) -> pd.DataFrame:
    """The ``feed_status`` frame at ``now_s`` (epoch seconds) for every feed at each of ``sites``; the feeds of
    ``stall_market`` at ``stall_site`` stop in the ``stalls`` windows."""
    minute = now_s // MINUTE_S
    rows = []
    for market in FEED_MARKETS:
        for site in sites:
            own = stalls if (site, market) == (stall_site, stall_market) else ()
            last = last_tick_minute(market, minute, own)
            for feed, rate in FEEDS[market]:
                key = (seed, market, feed, site)
                ticking = last == minute
                jitter = 0.2 + 1.8 * _unit(*key, now_s if ticking else last)  # a silent feed's last tick stays put
                if last is None:
                    age = np.nan
                elif ticking:
                    age = jitter
                else:
                    age = now_s - (last + 1) * MINUTE_S + jitter
                rows.append(
                    (
                        market,
                        feed,
                        site,
                        age,
                        _gaps(market, str(key), minute, own),
                        rate * (0.85 + 0.3 * _unit(*key, minute)) if ticking else 0.0,
                    )
                )
    frame = pd.DataFrame(rows, columns=["market", "feed", "site", "tick_age_s", "sequence_gaps", "messages_per_s"])
    frame.insert(0, "ts", pd.Timestamp(now_s, unit="s", tz="UTC").as_unit("ns"))
    return frame
