"""The rules calendar (R27): whether a rule is in force for a unit at a time, and what set it.

Three layers, all data, no I/O:

1. the base calendar of the versioned policy TOML (`[[calendar]]`, `DatedSwitch`): among the entries
   covering the day, the latest start wins and an entry naming the unit beats "*" on the same start
   (the first in file order on a full tie) — the behaviour `config.policy.Policy.rule` always had;
2. event switches of the TOML (`[[calendar_events]]`, `EventSwitch`) for the events that happened
   (`RuleEvent`): e.g. `registration_without_workflow_disabled` for a unit once its first contract
   with workflow is registered, whatever the date;
3. the approved change records of the store (`CalendarChange`), versioned, on top of the TOML.

Events and changes are *decisions* made at a time (the event's time, the approval's time): among
those covering the unit and day, the latest decision wins, and any of them beats the base calendar.
A change record never covers a day before its approval (`check_change` refuses a retroactive one),
so what was in force on a past day never changes.

A rule moves in one direction (`forward`: the value it takes as the municipality moves to
electronic registration and signing); a change that gives a rule back its old value for a unit and
a day on which it had the forward value is a *slide-back* (the minutes call it a regression) and
is refused without an explicit approval: RULE_CHANGE_NOT_APPROVED.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from domain.persian import format_jalali_date, to_tehran
from domain.reasons import DomainError, Reason

ALL_UNITS = "*"
WITH_WORKFLOW, AGILE, WITHOUT_WORKFLOW = "with_workflow", "agile", "without_workflow"
BOTH_REQUIRED, ELECTRONIC_OPTIONAL, ELECTRONIC_ONLY = ("physical_and_electronic_required",
                                                      "electronic_optional_beside_physical", "electronic_only")


@dataclass(frozen=True)
class DatedSwitch:
    """One `[[calendar]]` entry of the policy TOML (position `index`): `rule` takes `value` for
    `units` ("*" = every unit) on the Jalali days [from_, until)."""

    rule: str
    units: tuple[str, ...]
    from_: date
    until: date | None
    value: bool
    index: int


@dataclass(frozen=True)
class EventSwitch:
    """One `[[calendar_events]]` entry of the policy TOML (position `index`): `rule` takes `value`
    for a unit of `units` from the moment `event` happened for that unit, whatever the date."""

    rule: str
    units: tuple[str, ...]
    event: str
    value: bool
    index: int


@dataclass(frozen=True)
class RuleEvent:
    """An event that happened for a unit at `at` (aware UTC), `ref` naming what (a contract code)."""

    unit: str
    event: str
    at: datetime
    ref: str


@dataclass(frozen=True)
class CalendarChange:
    """A change record of the store, version `version`: `rule` takes `value` for `units` on the
    Jalali days [from_, until). Only an approved one (`approved_at` aware UTC) is in force."""

    version: int
    rule: str
    units: tuple[str, ...]
    from_: date
    until: date | None
    value: bool
    proposed_by: str = ""
    approved_by: str | None = None
    approved_at: datetime | None = None


@dataclass(frozen=True)
class RulesCalendar:
    """Everything a rule decision reads: the TOML base (`policy_version`, dated and event switches),
    the store's approved changes and the events that happened."""

    policy_version: str
    base: tuple[DatedSwitch, ...]
    event_switches: tuple[EventSwitch, ...] = ()
    changes: tuple[CalendarChange, ...] = ()
    events: tuple[RuleEvent, ...] = ()

    def with_store(self, changes: Iterable[CalendarChange], events: Iterable[RuleEvent]) -> RulesCalendar:
        """This base with the store's change records and events."""
        return replace(self, changes=tuple(changes), events=tuple(events))


@dataclass(frozen=True)
class RuleSource:
    """What set a rule: `kind` calendar | event | change | none, `ref` a stable reference
    (`calendar[2]@1400.1`, `event:first_contract_with_workflow:<ref>`, `change:3`), `since` the
    Jalali day it took effect, and `by` who decided (the approver of a change)."""

    kind: str
    ref: str
    since: date | None = None
    by: str | None = None
    at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON shape: {kind, ref, since (Jalali text or null), by, at (ISO UTC or null)}."""
        return {"kind": self.kind, "ref": self.ref, "since": format_jalali_date(self.since) if self.since else None,
                "by": self.by, "at": self.at.isoformat() if self.at else None}


@dataclass(frozen=True)
class RuleDecision:
    """Whether `rule` is in force for `unit` on Jalali day `on`, and its `source`."""

    rule: str
    unit: str
    on: date
    in_force: bool
    source: RuleSource


def _covers(units: Sequence[str], unit: str) -> bool:
    return unit in units or ALL_UNITS in units


def _in_window(on: date, from_: date, until: date | None) -> bool:
    return from_ <= on and (until is None or on < until)


def decide_rule(cal: RulesCalendar, rule: str, unit: str, on: date, at: datetime | None = None) -> RuleDecision:
    """Whether `rule` is in force for `unit` on the Jalali (Tehran) day `on` and which calendar
    entry, event or change record set it. With `at` (aware UTC, within `on`) an event counts only
    from its own time; without it, from its day.

    Returns a RuleDecision; a rule nothing sets is not in force (source kind "none").
    Raises: nothing (the unit is checked by the caller: config.policy.Policy.unit).
    Rule: R27 (switch per unit by date or by event; approved changes on top of the versioned TOML)."""
    best: tuple[date, int] | None = None
    decision = RuleDecision(rule, unit, on, False, RuleSource("none", "", None))
    for e in cal.base:
        if e.rule != rule or not _covers(e.units, unit) or not _in_window(on, e.from_, e.until):
            continue
        key = (e.from_, 1 if unit in e.units else 0)
        if best is None or key > best:
            best = key
            decision = RuleDecision(rule, unit, on, e.value,
                                    RuleSource("calendar", f"calendar[{e.index}]@{cal.policy_version}", e.from_))
    latest: tuple[datetime, int, int] | None = None
    for sw in cal.event_switches:
        if sw.rule != rule or not _covers(sw.units, unit):
            continue
        for ev in cal.events:
            day = to_tehran(ev.at).date()
            if ev.unit != unit or ev.event != sw.event or day > on or (at is not None and ev.at > at):
                continue
            ev_key = (ev.at, 0, sw.index)
            if latest is None or ev_key > latest:
                latest = ev_key
                decision = RuleDecision(rule, unit, on, sw.value,
                                        RuleSource("event", f"event:{ev.event}:{ev.ref}", day, None, ev.at))
    for ch in cal.changes:
        if ch.approved_at is None or ch.rule != rule or not _covers(ch.units, unit) \
                or not _in_window(on, ch.from_, ch.until) or (at is not None and ch.approved_at > at):
            continue
        ch_key = (ch.approved_at, 1, ch.version)
        if latest is None or ch_key > latest:
            latest = ch_key
            decision = RuleDecision(rule, unit, on, ch.value,
                                    RuleSource("change", f"change:{ch.version}", ch.from_, ch.approved_by,
                                               ch.approved_at))
    return decision


@dataclass(frozen=True)
class SlideBack:
    """A day on which a proposed change would give `unit` back the old value of a rule that
    `was` (a RuleDecision) had set to its forward value."""

    unit: str
    on: date
    was: RuleDecision

    def to_dict(self) -> dict[str, Any]:
        """JSON shape: {unit, on (Jalali text), was: RuleSource.to_dict()}."""
        return {"unit": self.unit, "on": format_jalali_date(self.on), "was": self.was.source.to_dict()}


def _boundaries(cal: RulesCalendar, change: CalendarChange) -> list[date]:
    days = {change.from_}
    for e in cal.base:
        days.update(d for d in (e.from_, e.until) if d is not None)
    for c in cal.changes:
        days.update(d for d in (c.from_, c.until) if d is not None)
    days.update(to_tehran(ev.at).date() for ev in cal.events)
    return sorted(d for d in days if _in_window(d, change.from_, change.until))


def check_change(cal: RulesCalendar, change: CalendarChange, today: date, forward: Mapping[str, bool],
                 units: Sequence[str], slide_back_approved: bool) -> tuple[SlideBack, ...]:
    """Check a proposed or approved change record against the calendar in force without it: it may
    not start before `today` (Jalali, Tehran) nor end before it starts; on each unit of `units` (the
    units it names, "*" expanded by the caller) and each day it covers, it may not give back the old
    value of a rule whose forward value (`forward[rule]`) was in force, unless `slide_back_approved`.

    Returns the slide-backs found (empty for a forward change), each with the day and what had set
    the rule. Raises: INVALID_INPUT (unknown rule, retroactive or empty window);
    RULE_CHANGE_NOT_APPROVED (a slide-back without its explicit approval). Rule: R27."""
    if change.rule not in forward:
        raise DomainError(Reason.INVALID_INPUT, f"قاعدهٔ «{change.rule}» در تقویم قواعد تعریف نشده است")
    if change.from_ < today:
        raise DomainError(Reason.INVALID_INPUT, f"تغییر تقویم از {format_jalali_date(change.from_)} گذشته‌نگر "
                                                "است؛ تغییر فقط از امروز یا پس از آن اثر می‌کند")
    if change.until is not None and change.until <= change.from_:
        raise DomainError(Reason.INVALID_INPUT, "پایان دورهٔ تغییر باید پس از آغاز آن باشد")
    others = replace(cal, changes=tuple(c for c in cal.changes if c.version != change.version))
    found: list[SlideBack] = []
    if change.value != forward[change.rule]:
        days = _boundaries(others, change)
        for unit in units:
            for day in days:
                was = decide_rule(others, change.rule, unit, day)
                if was.in_force == forward[change.rule]:
                    found.append(SlideBack(unit, day, was))
                    break
    if found and not slide_back_approved:
        named = "، ".join(f"{s.unit} از {format_jalali_date(s.on)} ({s.was.source.ref})" for s in found)
        raise DomainError(Reason.RULE_CHANGE_NOT_APPROVED,
                          f"تغییر {change.version} قاعدهٔ «{change.rule}» را برای {named} به حالت پیشین برمی‌گرداند "
                          "و تأیید صریح بازگشت ندارد")
    return tuple(found)


def registration_modes(without_workflow_disabled: bool, agile_allowed: bool) -> tuple[str, ...]:
    """The contract registration modes open to a unit on a day, from the calendar's
    `registration_without_workflow_disabled` and `registration_agile` decisions: with workflow
    always, agile (چابک) where allowed, without workflow until it is disabled (by date or by the
    unit's first contract with workflow). Raises: nothing. Rule: R12, R27."""
    return (WITH_WORKFLOW, *((AGILE,) if agile_allowed else ()),
            *(() if without_workflow_disabled else (WITHOUT_WORKFLOW,)))


def require_registration_mode(mode: str, modes: Sequence[str], unit: str, on: date) -> None:
    """Refuse a registration in a mode the calendar does not open to `unit` on `on`.

    Raises: REGISTRATION_WITHOUT_WORKFLOW_DISABLED (without workflow), REGISTRATION_MODE_NOT_ALLOWED
    (agile, or an unknown mode). Rule: R12, R27."""
    if mode in modes:
        return
    where = f"واحد «{unit}»، {format_jalali_date(on)}"
    if mode == WITHOUT_WORKFLOW:
        raise DomainError(Reason.REGISTRATION_WITHOUT_WORKFLOW_DISABLED, where)
    raise DomainError(Reason.REGISTRATION_MODE_NOT_ALLOWED, f"{mode}: {where}")


def notice_wording(physical_accepted: bool, electronic_optional: bool) -> str:
    """The wording mode of a notice from the calendar's `physical_documents_accepted` and
    `electronic_documents_optional` decisions: physical and electronic both required, electronic
    optional beside physical, or electronic only (no physical copy accepted).
    Raises: nothing. Rule: R02, R27."""
    if not physical_accepted:
        return ELECTRONIC_ONLY
    return ELECTRONIC_OPTIONAL if electronic_optional else BOTH_REQUIRED
