"""The rules calendar with the store (issue 14 part 4, R27): one place every caller asks whether a
rule is in force for a unit at a time.

The base is the versioned policy TOML (`[[calendar]]` by date, `[[calendar_events]]` by event); on
top of it the store holds the approved change records (`propose_change` then `approve_change`,
each audited) and the events that happened (`record_event`, e.g. a unit's first contract with
workflow). The decision itself is domain.policy.calendar.decide_rule; this module only loads its
inputs, checks who proposes and approves, and audits.

    decision(store, rule, unit, on, at=None) -> RuleDecision   (in_force, source: what set it)
    in_force(store, rule, unit, at) -> bool
    effects(store, unit, at) -> {rule: bool}                    (the keys of Policy.effects)
    require_registration_mode(store, unit, at, mode)            (R12, R27)
    record_event(store, unit, event, at, ref) -> bool / note_event(uow, ...)
    propose_change(...) -> ChangeInfo; approve_change(...) -> ChangeInfo; changes(store)
    describe(store, unit, on) -> dict                           (`eproc policy show`)

`store` is anything with `policy`, `clock` and `uow()`: services.deps.Deps, or the CLI's
eproc.context.AppContext (the local database).
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from config.policy import ALL_RULES, CALENDAR_EVENTS, RULE_FORWARD, RULES, RULES_FA, CalendarChanges, Policy
from domain.clock import Clock
from domain.identity import validate_national_id
from domain.persian import format_jalali_date, to_tehran
from domain.policy.calendar import (
    CalendarChange,
    RuleDecision,
    RuleEvent,
    RulesCalendar,
    SlideBack,
    check_change,
    decide_rule,
    notice_wording,
    registration_modes,
    require_registration_mode as domain_require_mode,
)
from domain.reasons import DomainError, Reason
from store import models as m
from store.uow import UnitOfWork

FIRST_CONTRACT_WITH_WORKFLOW = "first_contract_with_workflow"
PROPOSED, APPROVED = "proposed", "approved"
ENTITY = "rules_calendar"


class CalendarStore(Protocol):
    """What the calendar needs of a process: its policy, its clock, its database."""

    @property
    def policy(self) -> Policy: ...

    @property
    def clock(self) -> Clock: ...

    def uow(self) -> UnitOfWork: ...


@dataclass(frozen=True)
class ChangeInfo:
    """A change record as people see it: version, rule, units, Jalali window [from_, until), value,
    note, status (proposed | approved), who proposed and approved (national ID, role), when (aware
    UTC), whether its approval explicitly approved a slide-back and the slide-backs found."""

    version: int
    rule: str
    units: tuple[str, ...]
    from_: date
    until: date | None
    value: bool
    note: str
    status: str
    policy_version: str
    content_sha256: str
    proposed_by: str
    proposer_role: str
    proposed_at: datetime
    approved_by: str | None
    approver_role: str | None
    approved_at: datetime | None
    slide_back: bool
    slide_backs: tuple[dict[str, Any], ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON shape of the record (dates Jalali text, times ISO UTC)."""
        return {"version": self.version, "rule": self.rule, "units": list(self.units),
                "from": format_jalali_date(self.from_), "until": format_jalali_date(self.until) if self.until else None,
                "value": self.value, "note": self.note, "status": self.status, "policy_version": self.policy_version,
                "content_sha256": self.content_sha256, "proposed_by": self.proposed_by,
                "proposer_role": self.proposer_role, "proposed_at": self.proposed_at.isoformat(),
                "approved_by": self.approved_by, "approver_role": self.approver_role,
                "approved_at": self.approved_at.isoformat() if self.approved_at else None,
                "slide_back": self.slide_back, "slide_backs": list(self.slide_backs)}


def _info(row: m.RulesCalendarChange) -> ChangeInfo:
    return ChangeInfo(row.version, row.rule, tuple(json.loads(row.units_json)), row.from_day, row.until_day, row.value,
                      row.note, row.status, row.policy_version, row.content_sha256, row.proposed_by,
                      row.proposer_role, row.proposed_at, row.approved_by, row.approver_role, row.approved_at,
                      row.slide_back, tuple(json.loads(row.slide_backs_json or "[]")))


def _digest(version: int, rule: str, units: Sequence[str], from_: date, until: date | None, value: bool,
            note: str, policy_version: str) -> str:
    body = {"version": version, "rule": rule, "units": list(units), "from": from_.isoformat(),
            "until": until.isoformat() if until else None, "value": value, "note": note,
            "policy_version": policy_version}
    return hashlib.sha256(json.dumps(body, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def _row_digest(row: m.RulesCalendarChange) -> str:
    return _digest(row.version, row.rule, json.loads(row.units_json), row.from_day, row.until_day, row.value,
                   row.note, row.policy_version)


def _domain_change(row: m.RulesCalendarChange) -> CalendarChange:
    return CalendarChange(row.version, row.rule, tuple(json.loads(row.units_json)), row.from_day, row.until_day,
                          row.value, row.proposed_by, row.approved_by,
                          row.approved_at if row.status == APPROVED else None)


def _checked(uow: UnitOfWork, row: m.RulesCalendarChange) -> m.RulesCalendarChange:
    """An approved change as its approval was audited: a row edited in the database afterwards (a
    rule silently switched back) is STORE_TAMPERED."""
    audited = uow.audit.payloads("calendar.change_approved", f"change:{row.version}")
    digest = _row_digest(row)
    if digest != row.content_sha256 or not audited or audited[-1].get("content_sha256") != digest \
            or audited[-1].get("value") != row.value:
        raise DomainError(Reason.STORE_TAMPERED, f"تغییر {row.version} تقویم قواعد با ممیزی تأیید آن نمی‌خواند")
    return row


def _calendar(store: CalendarStore, uow: UnitOfWork) -> RulesCalendar:
    approved = [_domain_change(_checked(uow, r)) for r in uow.rules_calendar.changes(APPROVED)]
    events = [RuleEvent(e.unit_id, e.event, e.at, e.ref) for e in uow.rules_calendar.events()]
    return store.policy.rules_calendar().with_store(approved, events)


def calendar(store: CalendarStore) -> RulesCalendar:
    """The rules calendar in force: the policy TOML's base, the store's approved changes (each
    checked against its audited approval) and the events recorded.

    Raises: STORE_TAMPERED (an approved change edited after its approval). Rule: R27."""
    with store.uow() as uow:
        return _calendar(store, uow)


def decision(store: CalendarStore, rule: str, unit: str, on: date, at: datetime | None = None) -> RuleDecision:
    """Whether `rule` is in force for `unit` on the Jalali day `on` (at `at`, aware UTC, when given)
    and what set it (calendar entry, event or change record).

    Raises: UNKNOWN_UNIT; INVALID_INPUT (unknown rule); STORE_TAMPERED. Rule: R27
    (domain.policy.calendar.decide_rule)."""
    store.policy.unit(unit)
    if rule not in ALL_RULES:
        raise DomainError(Reason.INVALID_INPUT, f"قاعدهٔ «{rule}» در تقویم قواعد تعریف نشده است")
    return decide_rule(calendar(store), rule, unit, on, at)


def in_force(store: CalendarStore, rule: str, unit: str, at: datetime) -> bool:
    """Whether `rule` is in force for `unit` at `at` (aware UTC; its Tehran day for dated entries).

    Raises: as `decision`. Rule: R27."""
    return decision(store, rule, unit, to_tehran(at).date(), at).in_force


def effects(store: CalendarStore, unit: str, at: datetime) -> dict[str, bool]:
    """The rules a notice states (the keys of config.policy.Policy.effects) for `unit` at `at`
    (aware UTC), with the store's approved changes and events.

    Raises: UNKNOWN_UNIT; STORE_TAMPERED. Rule: R02, R27."""
    store.policy.unit(unit)
    cal, day = calendar(store), to_tehran(at).date()
    return {r: decide_rule(cal, r, unit, day, at).in_force for r in RULES}


def require_registration_mode(store: CalendarStore, unit: str, at: datetime, mode: str) -> None:
    """Refuse a contract registration of `unit` at `at` (aware UTC) in a mode the calendar does
    not open: `WITHOUT_WORKFLOW` once disabled by date or by the unit's first contract with
    workflow, `AGILE` until switched on.

    Raises: UNKNOWN_UNIT; REGISTRATION_WITHOUT_WORKFLOW_DISABLED; REGISTRATION_MODE_NOT_ALLOWED;
    STORE_TAMPERED. Rule: R12, R27."""
    store.policy.unit(unit)
    cal, day = calendar(store), to_tehran(at).date()
    modes = registration_modes(decide_rule(cal, "registration_without_workflow_disabled", unit, day, at).in_force,
                               decide_rule(cal, "registration_agile", unit, day, at).in_force)
    domain_require_mode(mode, modes, unit, day)


def note_event(uow: UnitOfWork, unit: str, event: str, at: datetime, ref: str, recorded_at: datetime) -> bool:
    """Record in `uow` (not committed) that `event` happened for `unit` at `at` (aware UTC), `ref`
    naming what; only the first occurrence counts and is audited. Returns whether it was new.

    Raises: INVALID_INPUT (unknown event); UNKNOWN_UNIT. Rule: R27."""
    if event not in CALENDAR_EVENTS:
        raise DomainError(Reason.INVALID_INPUT, f"رویداد «{event}» در تقویم قواعد تعریف نشده است")
    uow.units.get(unit)
    existing = uow.rules_calendar.event(unit, event)
    if existing is not None:
        return False
    uow.rules_calendar.add_event(m.RulesCalendarEvent(unit_id=unit, event=event, at=at, ref=ref,
                                                      recorded_at=recorded_at))
    uow.record(at=recorded_at, actor="engine", action="calendar.event", entity=ENTITY,
               entity_id=f"event:{unit}:{event}", payload={"unit": unit, "event": event, "at": at.isoformat(),
                                                           "ref": ref})
    return True


def record_event(store: CalendarStore, unit: str, event: str, at: datetime, ref: str) -> bool:
    """`note_event` in a transaction of its own, committed. Returns whether the event was new.

    Raises: INVALID_INPUT; UNKNOWN_UNIT. Rule: R27."""
    with store.uow() as uow:
        new = note_event(uow, unit, event, at, ref, store.clock.now())
        uow.commit()
    return new


def _settings(policy: Policy) -> CalendarChanges:
    if policy.calendar_changes is None:
        raise DomainError(Reason.POLICY_INVALID, "بخش [calendar_changes] در پروندهٔ سیاست نیست")
    return policy.calendar_changes


def _role_of(uow: UnitOfWork, national_id: str, roles: Sequence[str], unit: str, day: date) -> str:
    for role in roles:
        if uow.roles.holds(national_id, role, unit, day):
            return role
    raise DomainError(Reason.NOT_AUTHORISED, f"{national_id} در {format_jalali_date(day)} سمت "
                                             f"{' / '.join(roles)} را در واحد «{unit}» ندارد")


def _units(policy: Policy, units: Sequence[str]) -> list[str]:
    if not units:
        raise DomainError(Reason.INVALID_INPUT, "تغییر تقویم باید دست‌کم یک واحد را نام ببرد")
    if "*" in units:
        return [u.id for u in policy.units]
    for u in units:
        policy.unit(u)
    return list(dict.fromkeys(units))


def propose_change(store: CalendarStore, proposer: str, rule: str, units: Sequence[str], from_: date,
                   until: date | None, value: bool, note: str) -> ChangeInfo:
    """Record a proposed change of the rules calendar: `rule` takes `value` for `units` ("*" =
    every unit) on the Jalali days [from_, until), proposed by `proposer` (national ID) holding one
    of the policy's `calendar_changes.proposer_roles` in its unit today. Not in force until approved;
    a slide-back it would make is listed (its approval must say so explicitly). Audited
    (`calendar.change_proposed`).

    Raises: INVALID_INPUT (national ID, unknown rule, no unit, retroactive or empty window);
    UNKNOWN_UNIT; NOT_AUTHORISED (role); POLICY_INVALID (no [calendar_changes]). Rule: R27."""
    policy, now = store.policy, store.clock.now()
    settings, today = _settings(policy), to_tehran(now).date()
    nid = validate_national_id(proposer)
    named = _units(policy, units)
    unit_list = ["*"] if "*" in units else named
    if rule not in ALL_RULES:
        raise DomainError(Reason.INVALID_INPUT, f"قاعدهٔ «{rule}» در تقویم قواعد تعریف نشده است")
    with store.uow() as uow:
        role = _role_of(uow, nid, settings.proposer_roles, settings.unit, today)
        version = uow.rules_calendar.next_version()
        cal = _calendar(store, uow)
        found = check_change(cal, CalendarChange(version, rule, tuple(unit_list), from_, until, value, nid),
                             today, RULE_FORWARD, named, slide_back_approved=True)
        digest = _digest(version, rule, unit_list, from_, until, value, note, policy.version)
        row = uow.rules_calendar.add_change(m.RulesCalendarChange(
            version=version, rule=rule, units_json=json.dumps(unit_list), from_day=from_, until_day=until,
            value=value, note=note, policy_version=policy.version, content_sha256=digest, status=PROPOSED,
            proposed_by=nid, proposer_role=role, proposed_at=now, slide_back=False,
            slide_backs_json=json.dumps([s.to_dict() for s in found], ensure_ascii=False)))
        uow.record(at=now, actor=nid, action="calendar.change_proposed", entity=ENTITY, entity_id=f"change:{version}",
                   payload={"rule": rule, "units": unit_list, "from": from_.isoformat(),
                            "until": until.isoformat() if until else None, "value": value, "role": role,
                            "unit": settings.unit, "content_sha256": digest, "policy_version": policy.version,
                            "slide_backs": [s.to_dict() for s in found]})
        uow.commit()
        return _info(row)


def approve_change(store: CalendarStore, version: int, approver: str, slide_back_approved: bool = False) -> ChangeInfo:
    """Approve change record `version`: by `approver` (national ID), another person than its
    proposer, holding the policy's `calendar_changes.approver_role` in its unit today. The change is
    checked again against the calendar in force now; one that gives a unit back a rule's old value
    (a slide-back) needs `slide_back_approved` (the explicit approval of the slide-back), else it
    stays proposed and the refusal is audited. Audited (`calendar.change_approved`, with the
    approver's national ID and role, the digest of the change and the slide-backs approved).
    Approving an approved change again returns it unchanged.

    Raises: NOT_FOUND; INVALID_INPUT (national ID; its start has passed); NOT_AUTHORISED (role, or
    the proposer approving their own change); RULE_CHANGE_NOT_APPROVED (a slide-back without its
    explicit approval); STORE_TAMPERED; POLICY_INVALID. Rule: R27."""
    policy, now = store.policy, store.clock.now()
    settings, today = _settings(policy), to_tehran(now).date()
    nid = validate_national_id(approver)
    with store.uow() as uow:
        row = uow.rules_calendar.change(version)
        if row is None:
            raise DomainError(Reason.NOT_FOUND, f"تغییر {version} در تقویم قواعد نیست")
        if row.status == APPROVED:
            return _info(_checked(uow, row))
        if _row_digest(row) != row.content_sha256:
            raise DomainError(Reason.STORE_TAMPERED, f"تغییر {version} تقویم قواعد پس از پیشنهاد دست خورده است")
        if row.proposed_by == nid:
            raise DomainError(Reason.NOT_AUTHORISED, "پیشنهاددهندهٔ تغییر تقویم نمی‌تواند خود آن را تأیید کند")
        role = _role_of(uow, nid, [settings.approver_role], settings.unit, today)
        cal = _calendar(store, uow)
        change = _domain_change(row)
        units = _units(policy, change.units)
        refusal: DomainError | None = None
        found: tuple[SlideBack, ...] = ()
        try:
            found = check_change(cal, change, today, RULE_FORWARD, units, slide_back_approved)
        except DomainError as exc:
            refusal = exc
    if refusal is not None:
        with store.uow() as uow:
            uow.record(at=now, actor=nid, action="calendar.change_refused", entity=ENTITY, entity_id=f"change:{version}",
                       reason=refusal.reason, payload={"role": role, "unit": settings.unit, "detail": refusal.detail,
                                                       "content_sha256": row.content_sha256})
            uow.commit()
        raise refusal
    with store.uow() as uow:
        row = uow.rules_calendar.change(version)
        assert row is not None and row.status == PROPOSED
        row.status, row.approved_by, row.approver_role, row.approved_at = APPROVED, nid, role, now
        row.slide_back = bool(found)
        row.slide_backs_json = json.dumps([s.to_dict() for s in found], ensure_ascii=False)
        uow.record(at=now, actor=nid, action="calendar.change_approved", entity=ENTITY, entity_id=f"change:{version}",
                   payload={"rule": row.rule, "units": json.loads(row.units_json), "from": row.from_day.isoformat(),
                            "until": row.until_day.isoformat() if row.until_day else None, "value": row.value,
                            "role": role, "unit": settings.unit, "proposed_by": row.proposed_by,
                            "content_sha256": row.content_sha256, "slide_back": bool(found),
                            "slide_backs": [s.to_dict() for s in found]})
        uow.commit()
        return _info(row)


def changes(store: CalendarStore) -> list[ChangeInfo]:
    """Every change record of the calendar, by version (proposed and approved).

    Raises: nothing. Rule: R27."""
    with store.uow() as uow:
        return [_info(r) for r in uow.rules_calendar.changes()]


def describe(store: CalendarStore, unit: str, on: date) -> dict[str, object]:
    """What `eproc policy show` prints for `unit` on the Jalali day `on`: the keys of
    config.policy.Policy.describe (policy_version, unit, unit_name, date, rules {in_force, label},
    workflow), each rule with its `source` (what set it: calendar entry, event or change record)
    and the R27 rules beside those a notice states, plus `calendar_version` (policy version +
    approved changes), `registration_modes`, `notice_wording`, the unit's `events` and the
    `pending_changes` (versions proposed, not yet approved).

    Raises: UNKNOWN_UNIT; STORE_TAMPERED. Rule: R27."""
    policy = store.policy
    info = policy.describe(unit, on)
    with store.uow() as uow:
        cal = _calendar(store, uow)
        pending = [r.version for r in uow.rules_calendar.changes(PROPOSED)]
    decided = {r: decide_rule(cal, r, unit, on) for r in ALL_RULES}
    rules: dict[str, Any] = dict(info["rules"])  # type: ignore[call-overload]
    for r, d in decided.items():
        rules[r] = {**rules.get(r, {"in_force": d.in_force, "label": RULES_FA[r]}), "in_force": d.in_force,
                    "source": d.source.to_dict()}
    approved = [c.version for c in cal.changes]
    return {**info, "rules": rules,
            "calendar_version": f"{policy.version}+{max(approved)}" if approved else policy.version,
            "registration_modes": list(registration_modes(decided["registration_without_workflow_disabled"].in_force,
                                                          decided["registration_agile"].in_force)),
            "notice_wording": notice_wording(decided["physical_documents_accepted"].in_force,
                                             decided["electronic_documents_optional"].in_force),
            "events": [{"event": e.event, "at": e.at.isoformat(), "date": format_jalali_date(to_tehran(e.at).date()),
                        "ref": e.ref} for e in cal.events if e.unit == unit],
            "pending_changes": pending}
