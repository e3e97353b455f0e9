"""The regulator's grading of an incident: the grading table, the grade it proposes and the reports it makes due.

Securities firms grade network-security incidents for the CSRC as 特别重大 (``extraordinary``), 重大
(``major``), 较大 (``relatively_major``) or 一般 (``general``). The table (``grading.yaml`` beside this
module, or the file the config's ``grading:`` names) lists, highest grade first, rules on the affected
service's tier (the firm's system class), the minutes the incident lasted while its market was in session,
and how many business chains the service is on; an incident takes the first grade one of whose rules it
meets in full, else ``general``. Only minutes in a trading phase of the market's calendar count (not the
lunch break, nights, weekends, holidays or declared closures). The table also says which reports each
grade makes due and when: minutes after discovery, or trading days after recovery. Sources and the
assumptions of the default table: docs/grading.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd

from dashboard.analytics import calendar
from dashboard.core.settings import ConfigError, _Located

DEFAULT_TABLE = Path(__file__).with_name("grading.yaml")
GRADES = ("extraordinary", "major", "relatively_major", "general")  # highest first
REPORTS = ("initial", "written", "summary")
AFTER = ("discovery", "recovery")
MARKETS = (*calendar.MARKETS, "futures")
MAX_MINUTES = 31 * 24 * 60  # an incident open longer is counted over its first month
RECORD_WINDOW_DAYS = 30  # default: overdue reports of an incident ended longer ago stop counting down


@dataclass(frozen=True)
class Rule:
    """Met when the service's tier is one of ``tiers``, at least ``session_minutes`` were in session and the
    service is on at least ``chains`` chains."""

    tiers: tuple[int, ...]
    session_minutes: float = 0.0
    chains: int = 0

    def met(self, tier: int | None, minutes: float, chains: int) -> bool:
        return tier in self.tiers and minutes >= self.session_minutes and chains >= self.chains


@dataclass(frozen=True)
class Deadline:
    """A report due ``minutes`` after discovery, or ``trading_days`` after recovery."""

    report: str
    after: str
    minutes: float | None = None
    trading_days: int | None = None


@dataclass(frozen=True)
class Table:
    basis: str
    market: str
    service_markets: dict[str, str]
    rules: dict[str, tuple[Rule, ...]]
    deadlines: dict[str, tuple[Deadline, ...]]
    record_window_days: int = RECORD_WINDOW_DAYS  # see submissions.statuses
    path: str = str(DEFAULT_TABLE)

    def market_of(self, service: str | None) -> str:
        """The market whose sessions count for ``service``."""
        return self.service_markets.get(service or "", self.market)


@dataclass(frozen=True)
class Proposal:
    """A proposed grade and why: ``reasons`` as (kind, values), put in words by ``i18n``'s ``grading.reason.<kind>``."""

    grade: str
    session_minutes: int
    chains: tuple[str, ...]
    reasons: tuple[tuple[str, dict], ...]


def _keys(doc: _Located, where: tuple, raw: dict, known: set[str]) -> None:
    for key in raw:
        if key not in known:
            doc.fail(where + (key,), f"unknown key; expected one of {', '.join(sorted(known))}")


def _whole(doc: _Located, where: tuple, value, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        doc.fail(where, f"expected a whole number, at least {minimum}")
    return value


def _minutes(doc: _Located, where: tuple, value) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        doc.fail(where, "expected a number of minutes, at least 0")
    return float(value)


def _rule(doc: _Located, where: tuple, raw) -> Rule:
    if not isinstance(raw, dict) or "tiers" not in raw:
        doc.fail(where, "expected {tiers: [...], session_minutes: N, chains: N}")
    _keys(doc, where, raw, {"tiers", "session_minutes", "chains"})
    tiers = raw["tiers"]
    if not isinstance(tiers, list) or not tiers or any(t not in (1, 2, 3) or isinstance(t, bool) for t in tiers):
        doc.fail(where + ("tiers",), "expected a list of tiers, each 1, 2 or 3")
    return Rule(
        tuple(tiers),
        _minutes(doc, where + ("session_minutes",), raw.get("session_minutes", 0)),
        _whole(doc, where + ("chains",), raw.get("chains", 0)),
    )


def _deadline(doc: _Located, where: tuple, raw) -> Deadline:
    if not isinstance(raw, dict):
        doc.fail(where, "expected {report: ..., after: ..., minutes: N} or trading_days: N")
    _keys(doc, where, raw, {"report", "after", "minutes", "trading_days"})
    if raw.get("report") not in REPORTS:
        doc.fail(where + ("report",), f"expected one of {', '.join(REPORTS)}")
    if raw.get("after") not in AFTER:
        doc.fail(where + ("after",), f"expected one of {', '.join(AFTER)}")
    if ("minutes" in raw) == ("trading_days" in raw):
        doc.fail(where, "expected exactly one of minutes and trading_days")
    if "minutes" in raw:
        return Deadline(raw["report"], raw["after"], minutes=_minutes(doc, where + ("minutes",), raw["minutes"]))
    return Deadline(
        raw["report"], raw["after"], trading_days=_whole(doc, where + ("trading_days",), raw["trading_days"], 1)
    )


def _per_grade(doc: _Located, key: str, raw, item) -> dict[str, tuple]:
    if not isinstance(raw, dict):
        doc.fail((key,), f"expected a mapping of grades ({', '.join(GRADES)})")
    _keys(doc, (key,), raw, set(GRADES))
    out = {}
    for grade in GRADES:
        entries = raw.get(grade) or []
        if not isinstance(entries, list):
            doc.fail((key, grade), "expected a list")
        out[grade] = tuple(item(doc, (key, grade, i), entry) for i, entry in enumerate(entries))
    return out


def parse(text: str, path: str = "<grading>") -> Table:
    """Parse and validate a grading table; raise ConfigError naming the line and key."""
    doc = _Located(text, path)
    data = doc.data
    if not isinstance(data, dict):
        doc.fail((), "expected a mapping with basis, market, grades and deadlines")
    _keys(doc, (), data, {"basis", "market", "service_markets", "grades", "deadlines", "record_window_days"})
    if not str(data.get("basis") or "").strip():
        doc.fail(("basis",), "say what the table is based on")
    market = data.get("market", "cn")
    if market not in MARKETS:
        doc.fail(("market",), f"expected one of {', '.join(MARKETS)}")
    service_markets = data.get("service_markets") or {}
    if not isinstance(service_markets, dict):
        doc.fail(("service_markets",), "expected a mapping of service to market")
    for service, value in service_markets.items():
        if value not in MARKETS:
            doc.fail(("service_markets", service), f"expected one of {', '.join(MARKETS)}")
    rules = _per_grade(doc, "grades", data.get("grades"), _rule)
    if rules["general"]:
        doc.fail(("grades", "general"), "the lowest grade takes every incident no rule above meets: leave it empty")
    return Table(
        str(data["basis"]).strip(),
        market,
        {str(k): v for k, v in service_markets.items()},
        rules,
        _per_grade(doc, "deadlines", data.get("deadlines") or {}, _deadline),
        _whole(doc, ("record_window_days",), data.get("record_window_days", RECORD_WINDOW_DAYS), 1),
        path,
    )


def load(path: str | Path | None = None) -> Table:
    """Load the grading table at ``path`` (default: the built-in one)."""
    chosen = Path(path or DEFAULT_TABLE)
    try:
        text = chosen.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{chosen}: cannot read the grading table: {exc.strerror}") from None
    return parse(text, str(chosen))


def minutes_in_session(
    start: pd.Timestamp, end: pd.Timestamp, market: calendar.Market, closures: tuple[calendar.Closure, ...] = ()
) -> int:
    """How many whole minutes from ``start`` to ``end`` the market was in a trading phase, declared closures
    left out; each minute counts by the phase at its start."""
    if pd.isna(start) or pd.isna(end) or end <= start:
        return 0
    count = min(int((end - start).total_seconds() // 60), MAX_MINUTES)
    stamps = pd.date_range(start, periods=count, freq="1min")
    return int(calendar.in_session(market, stamps, closures).sum())


def propose(table: Table, service: str | None, tier: int | None, minutes: int, chains: tuple[str, ...]) -> Proposal:
    """The grade ``table`` gives an incident on ``service`` (its ``tier``) lasting ``minutes`` in session, the
    service being on ``chains``."""
    reasons: list[tuple[str, dict]] = [
        ("service", {"service": service, "tier": tier}) if service and tier else ("no_service", {"service": service}),
        ("session", {"minutes": minutes, "market": table.market_of(service)}),
        ("chains", {"count": len(chains), "names": ", ".join(chains) or "–"}),
    ]
    for grade in GRADES:
        for rule in table.rules[grade]:
            if rule.met(tier, minutes, len(chains)):
                tiers = "/".join(str(t) for t in rule.tiers)
                values = {"grade": grade, "tiers": tiers, "minutes": f"{rule.session_minutes:g}", "chains": rule.chains}
                return Proposal(grade, minutes, chains, (*reasons, ("rule_chains" if rule.chains else "rule", values)))
    return Proposal("general", minutes, chains, (*reasons, ("below", {})))


def _after_trading_days(at: pd.Timestamp, days: int, market: calendar.Market) -> pd.Timestamp:
    """The end (local midnight) of the ``days``-th trading day of ``market`` after the local day of ``at``."""
    tz = ZoneInfo(market.tz)
    day = at.tz_convert(tz).date()
    while days:
        day += timedelta(days=1)
        days -= calendar.is_trading_day(day, market)
    return pd.Timestamp(datetime.combine(day + timedelta(days=1), datetime.min.time(), tz)).tz_convert("UTC")


def due(
    table: Table, grade: str, discovered: pd.Timestamp, recovered: pd.Timestamp | None, market: calendar.Market
) -> list[tuple[Deadline, pd.Timestamp | None]]:
    """Each report ``grade`` makes due and when (None: after a recovery that has not come)."""
    out = []
    for deadline in table.deadlines[grade]:
        if deadline.after == "discovery":
            out.append((deadline, discovered + pd.Timedelta(minutes=deadline.minutes or 0)))
        elif recovered is None or pd.isna(recovered):
            out.append((deadline, None))
        elif deadline.trading_days:
            out.append((deadline, _after_trading_days(recovered, deadline.trading_days, market)))
        else:
            out.append((deadline, recovered + pd.Timedelta(minutes=deadline.minutes or 0)))
    return out
