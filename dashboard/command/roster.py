"""The duty roster: who is on duty at each escalation level now, and how each level is told.

Level 1 is the duty manager, level 2 the next one up, and so on. Each level has shifts, each a time
of day range in the display time zone (``to`` at or before ``from`` runs past midnight; ``24:00`` is
the end of the day) on some weekdays (those the shift starts on; all when ``days`` is left out).
Whoever's shift holds a moment is on duty then; a hand-over is where one shift ends and the next
begins (overlapping shifts put both people on duty for the overlap).

A level may instead take its people from an ITSM's on-call group (``oncall``): the poller reads the group
(``dashboard/command/oncall.py``) into the ``on_call`` frame, and ``on_call_answer`` turns that frame and its
status record into what ``on_duty`` uses, so the wall and the escalation see the same people. A failed read
keeps the last good answer, marked stale; a group that answer does not cover (none read yet, or one the roster
names since) is unread, which is not the same as nobody on call.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
from pydantic import Field, field_validator, model_validator

from dashboard.command.channels import Recipient
from dashboard.core.status import is_stale
from datasources.options import Strict

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CLOCK = re.compile(r"^(?:[01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$")


class Person(Strict):
    name: str = Field(description="The name shown on the wall and in messages.")
    email: str | None = Field(None, description="Where the e-mail channel writes to them.")
    mobile: str | None = Field(None, description="Their mobile number, @-mentioned by the group robots.")


class Shift(Strict):
    start: str = Field(alias="from", description="Start, HH:MM in the display time zone.")
    end: str = Field(alias="to", description="End, HH:MM; at or before `from`: the next day.")
    who: list[str] = Field(min_length=1, description="The people on duty (roster ids), one or a list.")
    days: list[str] = Field(list(DAYS), description="The weekdays the shift starts on (mon ... sun).")

    @field_validator("start", "end")
    @classmethod
    def _clock(cls, value: str) -> str:
        if not CLOCK.match(value):
            raise ValueError(f"expected a time of day as HH:MM, got {value!r}")
        return value

    @field_validator("who", mode="before")
    @classmethod
    def _one_or_more(cls, value):
        return [value] if isinstance(value, str) else value

    @field_validator("days")
    @classmethod
    def _days(cls, value: list[str]) -> list[str]:
        wrong = [d for d in value if d not in DAYS]
        if wrong:
            raise ValueError(f"unknown day {wrong[0]!r}; expected {', '.join(DAYS)}")
        return value


class OnCall(Strict):
    source: str = Field(description="The ITSM source (by name) whose on-call group says who is on duty.")
    group: str = Field(
        min_length=1, description="The group: a Request Tracker group's name; a ServiceNow group's name or sys_id."
    )


class Level(Strict):
    title: str = Field(description="What the level is called: Duty manager, Head of operations.")
    title_zh: str | None = Field(None, description="The same in Chinese.")
    channels: list[str] = Field(
        default_factory=list, description="The channels (by name) that tell this level; none: shown, never told."
    )
    shifts: list[Shift] = Field(default_factory=list, description="Who is on duty when.")
    oncall: OnCall | None = Field(None, description="Instead of shifts: the ITSM on-call group on duty.")

    @model_validator(mode="after")
    def _shifts_or_oncall(self) -> Level:
        if bool(self.shifts) == (self.oncall is not None):
            raise ValueError("expected either shifts or oncall (an ITSM's on-call group)")
        return self


class Roster(Strict):
    people: dict[str, Person] = Field(description="Everyone on the roster, by id.")
    levels: list[Level] = Field(min_length=1, description="Level 1 first.")

    def oncall_groups(self) -> list[OnCall]:
        """The on-call groups the levels name, each once."""
        return list(
            {(level.oncall.source, level.oncall.group): level.oncall for level in self.levels if level.oncall}.values()
        )

    def problems(self, channels: set[str], oncall_sources: set[str]) -> list[tuple[tuple, str]]:
        """References that do not resolve: (key path, message); ``oncall_sources``: the sources that read
        on-call groups."""
        found = []
        for i, level in enumerate(self.levels):
            found += [(("levels", i, "channels"), f"no channel {c!r}") for c in level.channels if c not in channels]
            if level.oncall and level.oncall.source not in oncall_sources:
                readers = ", ".join(sorted(oncall_sources)) or "none configured"
                message = f"no source {level.oncall.source!r} that reads on-call groups ({readers})"
                found.append((("levels", i, "oncall", "source"), message))
            for j, shift in enumerate(level.shifts):
                found += [
                    (("levels", i, "shifts", j, "who"), f"no person {p!r} under people")
                    for p in shift.who
                    if p not in self.people
                ]
        return found


@dataclass(frozen=True)
class OnDuty:
    """Who is on duty at one level, until when (the end of their shift, local; None round the clock or from an
    on-call group); for an on-call group, its ITSM source, when it was last read (None: the last good read did
    not cover the group) and whether that is stale."""

    level: int
    title: str
    title_zh: str | None
    people: tuple[Recipient, ...]
    channels: tuple[str, ...]
    until: datetime | None
    itsm: str | None = None
    read_at: datetime | None = None
    stale: bool = False

    @property
    def unread(self) -> bool:
        """An on-call group no good read has covered: who is on call is unknown, not nobody."""
        return self.itsm is not None and self.read_at is None


@dataclass(frozen=True)
class OnCallAnswer:
    """The on-call groups as the poller last read them: the people by (source, group), the groups that read
    covered (a group outside it is unread, never empty), when that read succeeded (None: never), and whether
    it is stale (the last read failed, or none succeeded lately)."""

    people: dict[tuple[str, str], tuple[Recipient, ...]]
    read_at: datetime | None
    stale: bool
    groups: frozenset[tuple[str, str]] = frozenset()


def on_call_answer(frame: pd.DataFrame, status: dict | None, now: datetime) -> OnCallAnswer:
    """The ``on_call`` frame and its source's status record as an answer (no status yet: not read, not stale);
    every group the read covered has a row, one without a person when nobody is on call."""
    people: dict[tuple[str, str], tuple[Recipient, ...]] = {}
    for row in frame.itertuples(index=False):
        key = (row.source, row.group)
        person = (
            () if pd.isna(row.person) else (Recipient(row.person, row.name, *(_text(row.email), _text(row.mobile))),)
        )
        people[key] = (*people.get(key, ()), *person)
    success = (status or {}).get("last_success")
    read_at = pd.Timestamp(success).to_pydatetime() if success else None
    groups = frozenset(people) if read_at else frozenset()
    return OnCallAnswer(people, read_at, status is not None and is_stale(status, now), groups)


def _text(value) -> str | None:
    return None if pd.isna(value) or not value else value


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def _spans(shift: Shift, local: datetime) -> list[tuple[datetime, datetime]]:
    """The shift's occurrences that may hold ``local``: those starting yesterday and today."""
    start, end = _minutes(shift.start), _minutes(shift.end)
    length = end - start if end > start else end + 24 * 60 - start
    found = []
    for back in (1, 0):
        day = (local - timedelta(days=back)).date()
        if DAYS[day.weekday()] in shift.days:
            begins = datetime.combine(day, time(), local.tzinfo) + timedelta(minutes=start)
            found.append((begins, begins + timedelta(minutes=length)))
    return found


def _on_call(number: int, level: Level, answer: OnCallAnswer | None) -> OnDuty:
    read, key = answer or OnCallAnswer({}, None, False), (level.oncall.source, level.oncall.group)
    covered = key in read.groups
    return OnDuty(
        number,
        level.title,
        level.title_zh,
        read.people.get(key, ()) if covered else (),
        tuple(level.channels),
        None,
        level.oncall.source,
        read.read_at if covered else None,
        read.stale,
    )


def on_duty(roster: Roster, now: datetime, tz: str, answer: OnCallAnswer | None = None) -> list[OnDuty]:
    """Each level's people on duty at ``now`` (a level nobody covers has no people); ``answer``: the on-call
    groups as last read, for the levels that take their people from one."""
    local = now.astimezone(ZoneInfo(tz))
    levels = []
    for number, level in enumerate(roster.levels, start=1):
        if level.oncall is not None:
            levels.append(_on_call(number, level, answer))
            continue
        people, until = [], None
        for shift in level.shifts:
            for begins, ends in _spans(shift, local):
                if begins <= local < ends:
                    people += [p for p in shift.who if p not in people]
                    if ends - begins < timedelta(days=1):  # a round-the-clock shift has no hand-over to show
                        until = ends if until is None else max(until, ends)
        levels.append(
            OnDuty(
                number,
                level.title,
                level.title_zh,
                tuple(
                    Recipient(p, roster.people[p].name, roster.people[p].email, roster.people[p].mobile) for p in people
                ),
                tuple(level.channels),
                until,
            )
        )
    return levels
