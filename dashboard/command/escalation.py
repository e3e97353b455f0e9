"""Notification and escalation of incidents, run by the poller after its polls.

An open incident of a watched priority (``notifications.priorities``, default P1) that nobody has
acknowledged (no ``acknowledged_at`` in the incidents frame, no acknowledge action in opscenter)
notifies level 1 of the duty roster as soon as the job sees it; each ``ack_minutes`` (default 5)
it stays unacknowledged after a level was notified, the next level is notified, up to the last.
Each level is notified once per incident on each of its channels (``notifications.open_level``);
a failed send is tried again after a back-off doubling from ``FIRST_RETRY_S`` to ``MAX_RETRY_S``,
``MAX_ATTEMPTS`` times in all; every attempt is recorded with an audit row (actor "opscenter").
Once the incident is acknowledged, resolved or gone, what is still pending is cancelled.

A level that takes its people from an ITSM's on-call group is told whoever the poller last read in it
(``on_call``: the same answer the wall shows; the last good one while the ITSM does not answer).

One runner at a time across pollers (the lease ``job:incident-notify``, renewed while a run lasts).
The poller hands the job its clock's "now"; the job runs on a thread of its own and a call while
it still runs is skipped, so a slow channel never holds up a poll.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
import sqlalchemy as sa

from dashboard.analytics import incidents as incident_stats
from dashboard.command import actions, declared, notifications
from dashboard.command.channels import Channel, ChannelError, Message, Recipient, build
from dashboard.command.notify_config import NotifySettings
from dashboard.command.roster import OnCallAnswer, OnDuty, on_duty
from dashboard.core.leases import renewing
from dashboard.i18n import t
from dashboard.security.redact import redact

log = logging.getLogger("opscenter.notify")

LEASE = "job:incident-notify"
LEASE_S = 30.0
FIRST_RETRY_S = 15.0
MAX_RETRY_S = 300.0
MAX_ATTEMPTS = 6
CLAIM_S = 120.0  # a claimed send is free to take again after this (its runner died): beyond any channel's deadline
OPEN_STATES = ("new", "in_progress", "on_hold")


def retry_after_s(attempts: int) -> float:
    """The wait before the next attempt after ``attempts`` failed ones."""
    return min(FIRST_RETRY_S * 2 ** max(attempts - 1, 0), MAX_RETRY_S)


def watched(incidents: pd.DataFrame, acknowledged: pd.DataFrame, priorities, tickets=frozenset()) -> pd.DataFrame:
    """The open incidents of ``priorities`` nobody has acknowledged, in the frame or in opscenter; the ticket
    opened for an incident declared in opscenter is that incident, not one more to notify (named in the frame,
    or in ``tickets`` (source, incident id) before opscenter's own frame names it)."""
    frame = incident_stats.with_acknowledgements(incident_stats.without_ticket_copies(incidents), acknowledged)
    copies = pd.MultiIndex.from_frame(frame[["source", "incident_id"]]).isin(list(tickets)) if tickets else False
    keep = frame["state"].isin(OPEN_STATES) & frame["priority"].isin(priorities) & frame["acknowledged_at"].isna()
    keep &= ~copies
    return frame[keep].drop_duplicates(["source", "incident_id"], keep="last")


def next_level(opened: dict[int, datetime], now: datetime, ack_minutes: float, levels: int) -> int | None:
    """The level to notify now, given when each level was (``opened``); None when none is due."""
    if not opened:
        return 1
    top = max(opened)
    if top < levels and now - opened[top] >= timedelta(minutes=ack_minutes):
        return top + 1
    return None


class EscalationJob:
    """Notify and escalate the watched incidents of ``incidents()`` through ``settings``' channels and roster;
    ``on_call(now)``: the on-call groups as last read (``roster.on_call_answer``), when the roster names any."""

    def __init__(
        self,
        settings: NotifySettings,
        engine: sa.Engine,
        leases,
        incidents: Callable[[], pd.DataFrame],
        tz: str,
        lang: str = "en",
        on_call: Callable[[datetime], OnCallAnswer] | None = None,
    ):
        self.settings, self.engine, self.leases, self.incidents = settings, engine, leases, incidents
        self.tz, self.lang, self.on_call = tz, lang, on_call
        self.channels: dict[str, Channel] = {name: build(name, o) for name, o in settings.channels.items()}
        self._thread: threading.Thread | None = None

    def __call__(self, now: datetime) -> None:
        """Run on a thread of its own, unless the previous run still goes on."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._thread = threading.Thread(target=self.run, args=(now,), name="opscenter-notify", daemon=True)
        self._thread.start()

    def run(self, now: datetime) -> int:
        """Open the levels due and send what is due, when the lease can be claimed; return the sends made."""
        if not self.leases.claim(LEASE, LEASE_S):
            return 0
        try:
            with renewing(self.leases, LEASE, LEASE_S):
                frame = self.incidents()
                self.escalate(frame, now)
                return self.deliver(frame, now)
        except Exception as exc:  # tried again after the next poll; polling must go on
            log.error("incident notification failed: %s", redact(str(exc)))
            return 0
        finally:
            self.leases.hold(LEASE, 0, 0)  # released: the next poll may run it at once

    def duty(self, now: datetime) -> list[OnDuty]:
        """Each level's people on duty at ``now``."""
        return on_duty(self.settings.current_roster(), now, self.tz, self.on_call(now) if self.on_call else None)

    def escalate(self, frame: pd.DataFrame, now: datetime) -> None:
        """Cancel what no longer needs sending, and open each watched incident's level that is due."""
        acknowledged, tickets = actions.acknowledgements(self.engine), declared.tickets(self.engine)
        open_ones = watched(frame, acknowledged, self.settings.priorities, tickets)
        keys = set(zip(open_ones["source"], open_ones["incident_id"], strict=True))
        for source, incident_id in notifications.pending_incidents(self.engine) - keys:
            notifications.cancel(self.engine, source, incident_id)
        duty = self.duty(now)
        for source, incident_id in sorted(keys):
            opened = notifications.levels(self.engine, source, incident_id)
            level = next_level(opened, now, self.settings.ack_minutes, len(duty))
            if level is None:
                continue
            on = duty[level - 1]
            people = [{"id": p.id, "name": p.name, "email": p.email, "mobile": p.mobile} for p in on.people]
            if notifications.open_level(self.engine, source, incident_id, level, on.channels, people, now):
                log.info("incident %s/%s: notifying level %d (%s)", source, incident_id, level, on.title)

    def deliver(self, frame: pd.DataFrame, now: datetime) -> int:
        """Send each pending notification that is due; record every outcome."""
        sent = 0
        duty = {d.level: d for d in self.duty(now)}
        for row in notifications.due(self.engine, now):
            if not notifications.claim(self.engine, row["id"], now, now + timedelta(seconds=CLAIM_S)):
                continue  # another poller is sending it
            channel = self.channels.get(row["channel"])
            error = None
            try:
                if channel is None:
                    raise ChannelError(f"{row['channel']}: no such channel in the config any more")
                channel.send(self.message(frame, row, duty.get(row["level"]), now), int(now.timestamp() * 1000))
            except ChannelError as exc:
                error = str(exc)
            attempts = row["attempts"] + 1
            next_at = now + timedelta(seconds=retry_after_s(attempts)) if attempts < MAX_ATTEMPTS else None
            notifications.outcome(self.engine, row, now, error, next_at)
            if error:
                log.warning("notification %s of incident %s failed: %s", row["id"], row["incident_id"], error)
            else:
                sent += 1
        return sent

    def message(self, frame: pd.DataFrame, row: dict, level: OnDuty | None, now: datetime) -> Message:
        """The message of one notification, in the config's language."""
        lang = self.lang
        found = frame[(frame["source"] == row["source"]) & (frame["incident_id"] == row["incident_id"])]
        incident = found.iloc[-1] if len(found) else None
        people = tuple(Recipient(p["id"], p["name"], p.get("email"), p.get("mobile")) for p in row["recipients"])
        values = {
            "priority": int(incident["priority"]) if incident is not None else "?",
            "incident_id": row["incident_id"],
            "title": incident["title"] if incident is not None else "",
            "level": row["level"],
        }
        title = t("notify.title" if row["level"] == 1 else "notify.title_escalated", lang, **values)
        lines = []
        if incident is not None:
            opened = pd.Timestamp(incident["opened_at"])
            lines.append(t("notify.service", lang, service=incident["service"] or "–"))
            lines.append(
                t("notify.opened", lang, opened=opened.tz_convert(ZoneInfo(self.tz)).strftime("%Y-%m-%d %H:%M"))
            )
            lines.append(t("notify.unacked", lang, minutes=max(int((now - opened).total_seconds() // 60), 0)))
        names = ", ".join(p.name for p in people) or t("notify.nobody", lang)
        level_title = (level.title_zh if lang == "zh" and level and level.title_zh else level.title) if level else ""
        lines.append(t("notify.on_duty", lang, level=row["level"], title=level_title, people=names))
        if self.settings.link_url:
            url = f"{self.settings.link_url}/incidents/{row['incident_id']}"
            lines.append(t("notify.link", lang, url=url))
        facts = {
            "event": "incident.escalated" if row["level"] > 1 else "incident.notified",
            "source": row["source"],
            "incident_id": row["incident_id"],
            "priority": values["priority"],
            "level": row["level"],
        }
        return Message(title, "\n".join(lines), people, facts)
