"""The duty roster: who is on duty at each escalation level now, and how each level is told.

Level 1 is the duty manager, level 2 the next one up, and so on. Each level has shifts, each a time
of day range in the display time zone (``to`` at or before ``from`` runs past midnight; ``24:00`` is
the end of the day) on some weekdays (those the shift starts on; all when ``days`` is left out).
Whoever's shift holds a moment is on duty then; a hand-over is where one shift ends and the next
begins (overlapping shifts put both people on duty for the overlap).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator

from dashboard.command.channels import Recipient
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


class Level(Strict):
    title: str = Field(description="What the level is called: Duty manager, Head of operations.")
    title_zh: str | None = Field(None, description="The same in Chinese.")
    channels: list[str] = Field(
        default_factory=list, description="The channels (by name) that tell this level; none: shown, never told."
    )
    shifts: list[Shift] = Field(min_length=1, description="Who is on duty when.")


class Roster(Strict):
    people: dict[str, Person] = Field(description="Everyone on the roster, by id.")
    levels: list[Level] = Field(min_length=1, description="Level 1 first.")

    def problems(self, channels: set[str]) -> list[tuple[tuple, str]]:
        """References that do not resolve: (key path, message)."""
        found = []
        for i, level in enumerate(self.levels):
            found += [(("levels", i, "channels"), f"no channel {c!r}") for c in level.channels if c not in channels]
            for j, shift in enumerate(level.shifts):
                found += [
                    (("levels", i, "shifts", j, "who"), f"no person {p!r} under people")
                    for p in shift.who
                    if p not in self.people
                ]
        return found


@dataclass(frozen=True)
class OnDuty:
    """Who is on duty at one level, until when (the end of their shift, local; None round the clock)."""

    level: int
    title: str
    title_zh: str | None
    people: tuple[Recipient, ...]
    channels: tuple[str, ...]
    until: datetime | None


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


def on_duty(roster: Roster, now: datetime, tz: str) -> list[OnDuty]:
    """Each level's people on duty at ``now`` (a level nobody covers has no people)."""
    local = now.astimezone(ZoneInfo(tz))
    levels = []
    for number, level in enumerate(roster.levels, start=1):
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
