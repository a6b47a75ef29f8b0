"""Completeness is checked, not assumed (R31): the counts the treasurers (ذی‌حساب) and the legal units
declare each month, per unit and threshold class, against the system's; and each unit's correction
inbox measured week by week against its deadline.

Sources: s128 item 1.1 (each month the treasurers and the legal units report the number of contracts
concluded and in progress, by threshold class: small, medium, large), s111 item 1-4 (each unit is
given at most two weeks to correct what was published), s117 (weekly progress reports, per unit).
Pure: the caller (services.completeness) reads the file, the store and the policy.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.persian import normalize, parse_int
from domain.reasons import DomainError, Reason

SOURCES = {"treasurer": "ذی‌حساب", "legal": "واحد حقوقی"}
MEASURES = {"concluded": "منعقدشده", "in_progress": "در جریان انعقاد"}
CLASSES = ("small", "medium", "large")
UNCLASSIFIED = "unclassified"
# How people name the sources and classes in a declaration (the minutes' words: خرد، متوسط، کلان).
_SOURCE_ALIASES = {"treasurer": "treasurer", "ذیحساب": "treasurer", "ذی‌حساب": "treasurer", "legal": "legal",
                   "حقوقی": "legal", "واحد حقوقی": "legal"}
_CLASS_ALIASES = {"small": "small", "خرد": "small", "کوچک": "small", "medium": "medium", "متوسط": "medium",
                  "large": "large", "کلان": "large", "بزرگ": "large"}
# A difference's kind (what the unit must do) and its Persian description.
NOT_REGISTERED = "not_registered"   # the unit declares more than the system holds
NOT_DECLARED = "not_declared"       # the system holds more than the unit declares
KIND_FA = {NOT_REGISTERED: "قراردادهایی که واحد اعلام کرده ولی در سامانه ثبت نشده‌اند",
           NOT_DECLARED: "قراردادهایی که در سامانه هست ولی واحد اعلام نکرده است",
           UNCLASSIFIED: "قراردادهای سامانه بدون نصاب (جدول نصاب آن سال تعریف نشده است)"}


@dataclass(frozen=True)
class Declared:
    """One declared count: unit id, source (treasurer | legal), threshold class, measure
    (concluded | in_progress), count, and the file's line number (1 = header)."""

    unit: str
    source: str
    threshold_class: str
    measure: str
    count: int
    line: int


@dataclass(frozen=True)
class BadLine:
    """A declaration line that could not be read: its line number, reason code and Persian detail."""

    line: int
    reason: Reason
    detail: str


@dataclass(frozen=True)
class Difference:
    """A declared count that differs from the system's: unit, source, class, measure, the two counts,
    the kind (not_registered | not_declared | unclassified) and the reason code where one fits
    (THRESHOLDS_NOT_CONFIGURED for the system's unclassified contracts; None otherwise)."""

    unit: str
    source: str
    threshold_class: str
    measure: str
    declared: int
    counted: int
    kind: str
    reason: Reason | None

    @property
    def key(self) -> tuple[str, str, str, str]:
        """What identifies a difference from one check to the next: unit, source, class, measure."""
        return (self.unit, self.source, self.threshold_class, self.measure)


def declared_line(cells: Mapping[str, str], line: int, units: Iterable[str]) -> list[Declared]:
    """The declared counts of one line of a declaration file: `unit`, `source`, `threshold_class`
    and the counts `concluded` and `in_progress` (either may be blank: not declared). Persian names
    of the source (ذی‌حساب، حقوقی) and the class (خرد، متوسط، کلان) and Persian/Arabic digits are
    accepted; invisible marks are cleaned first.

    Raises: FIELD_MISSING (unit, source or class blank, or neither count given), UNKNOWN_UNIT (a unit
    not in `units`), INVALID_INPUT (unknown source or class, a count that is not a whole number or is
    negative). Rule: R31 (s128 item 1.1)."""
    unit = normalize(str(cells.get("unit") or ""))
    source_text = normalize(str(cells.get("source") or "")).strip()
    class_text = normalize(str(cells.get("threshold_class") or "")).strip()
    blank = [k for k, v in (("unit", unit), ("source", source_text), ("threshold_class", class_text)) if not v]
    if blank:
        raise DomainError(Reason.FIELD_MISSING, ", ".join(blank), fields=",".join(blank))
    if unit not in set(units):
        raise DomainError(Reason.UNKNOWN_UNIT, f"«{unit}»")
    source = _SOURCE_ALIASES.get(source_text) or _SOURCE_ALIASES.get(source_text.replace("\u200c", ""))
    if source is None:
        raise DomainError(Reason.INVALID_INPUT, f"منبع «{source_text}» یکی از treasurer (ذی‌حساب) یا legal (حقوقی) نیست")
    klass = _CLASS_ALIASES.get(class_text)
    if klass is None:
        raise DomainError(Reason.INVALID_INPUT, f"نصاب «{class_text}» یکی از small/medium/large (خرد/متوسط/کلان) نیست")
    out = []
    for measure in MEASURES:
        text = normalize(str(cells.get(measure) or "")).strip()
        if not text:
            continue
        count = parse_int(text, measure)
        if count < 0:
            raise DomainError(Reason.INVALID_INPUT, f"{measure}: تعداد منفی «{text}»")
        out.append(Declared(unit, source, klass, measure, count, line))
    if not out:
        raise DomainError(Reason.FIELD_MISSING, "concluded, in_progress", fields="concluded,in_progress")
    return out


def compare_counts(declared: Sequence[Declared],
                   counted: Mapping[tuple[str, str, str], int]) -> list[Difference]:
    """Each declared count against the system's (`counted`: (unit, class, measure) -> count, the
    classes small, medium, large and unclassified); a later line for the same unit, source, class and
    measure replaces an earlier one. A unit that declared anything for a source is compared in every
    class and measure it declared; the system's unclassified contracts of a declaring unit are listed
    once per source (reason THRESHOLDS_NOT_CONFIGURED), since no declared class can hold them.

    Returns the differences sorted by unit, source, class, measure. Raises: nothing. Rule: R31."""
    latest: dict[tuple[str, str, str, str], Declared] = {}
    for d in declared:
        latest[(d.unit, d.source, d.threshold_class, d.measure)] = d
    out: list[Difference] = []
    for (unit, source, klass, measure), d in latest.items():
        have = counted.get((unit, klass, measure), 0)
        if d.count != have:
            kind = NOT_REGISTERED if d.count > have else NOT_DECLARED
            out.append(Difference(unit, source, klass, measure, d.count, have, kind, None))
    for unit, source in sorted({(u, s) for u, s, _, _ in latest}):
        for measure in MEASURES:
            extra = counted.get((unit, UNCLASSIFIED, measure), 0)
            if extra:
                out.append(Difference(unit, source, UNCLASSIFIED, measure, 0, extra, UNCLASSIFIED,
                                      Reason.THRESHOLDS_NOT_CONFIGURED))
    order = {k: i for i, k in enumerate((*CLASSES, UNCLASSIFIED))}
    measures = list(MEASURES)
    out.sort(key=lambda x: (x.unit, x.source, order[x.threshold_class], measures.index(x.measure)))
    return out


# --- the correction inbox, week by week ----------------------------------------------------------

@dataclass(frozen=True)
class InboxEntry:
    """One thing a unit must correct: when it was opened and resolved (aware UTC; None while open)."""

    opened_at: datetime
    resolved_at: datetime | None


@dataclass(frozen=True)
class Week:
    """One week of a unit's corrections: its number (1 = the week the round began), its end (aware
    UTC), items opened by then, resolved by then, still open, the open count the deadline allows at
    that point (a straight line from all open at the start to none at the deadline), and whether the
    unit is on track (open <= allowed)."""

    number: int
    ends_at: datetime
    opened: int
    resolved: int
    open: int
    allowed_open: int
    on_track: bool


@dataclass(frozen=True)
class Progress:
    """A unit's progress: round start, deadline, each week up to `now`, the status (done | on_track |
    behind | overdue) and the counts now."""

    started_at: datetime | None
    deadline: datetime | None
    weeks: tuple[Week, ...]
    status: str
    open: int
    resolved: int


_US = timedelta(microseconds=1)


def correction_deadline(opened_at: datetime, correction_days: int) -> datetime:
    """When a correction opened at `opened_at` (aware UTC) is due: `correction_days` later (the
    policy's [completeness] correction_days; s111 item 1-4: at most two weeks).

    Raises: INVALID_INPUT (a naive time, or days below 1). Rule: R31."""
    if opened_at.tzinfo is None:
        raise DomainError(Reason.INVALID_INPUT, "زمان بدون منطقهٔ زمانی پذیرفته نیست")
    if correction_days < 1:
        raise DomainError(Reason.INVALID_INPUT, f"مهلت اصلاح باید دست‌کم یک روز باشد: {correction_days}")
    return opened_at + timedelta(days=correction_days)


def weekly_progress(entries: Sequence[InboxEntry], correction_days: int, now: datetime) -> Progress:
    """A unit's correction inbox week by week against its deadline (R31; s111, s117).

    The round is the entries still open at `now` and those resolved after the earliest of them was
    opened (every entry, when nothing is open). It starts when its first entry was opened; its
    deadline is the latest of its entries' deadlines (correction_deadline). Weeks are
    7-day steps from the start; the last (current) week ends at `now`. Status: done (nothing open), overdue (something open past the deadline), behind (more open
    than the straight line allows at `now`), else on_track. Times aware UTC.

    Raises: INVALID_INPUT (naive times, days below 1). Rule: R31."""
    if now.tzinfo is None:
        raise DomainError(Reason.INVALID_INPUT, "زمان بدون منطقهٔ زمانی پذیرفته نیست")
    open_now = [e for e in entries if e.resolved_at is None or e.resolved_at > now]
    if open_now:
        start = min(e.opened_at for e in open_now)
        round_ = [e for e in entries if e.opened_at <= now and (e.resolved_at is None or e.resolved_at >= start)]
    else:
        round_ = [e for e in entries if e.opened_at <= now]
    if not round_:
        return Progress(None, None, (), "done", 0, 0)
    start = min(e.opened_at for e in round_)
    deadline = max(correction_deadline(e.opened_at, correction_days) for e in round_)
    span = deadline - start
    weeks: list[Week] = []
    number = 0
    end_of_all = now
    while True:
        number += 1
        ends = min(start + timedelta(days=7 * number), end_of_all)
        opened = sum(1 for e in round_ if e.opened_at <= ends)
        resolved = sum(1 for e in round_ if e.resolved_at is not None and e.resolved_at <= ends)
        left = opened - resolved
        elapsed = min(max(ends - start, timedelta(0)), span)
        # The straight line, rounded up in whole items (exact: integer microseconds, no float).
        allowed = -(-opened * ((span - elapsed) // _US) // (span // _US)) if span else 0
        weeks.append(Week(number, ends, opened, resolved, left, allowed, left <= allowed))
        if ends >= end_of_all:
            break
    still_open = len(open_now)
    resolved_total = sum(1 for e in round_ if e.resolved_at is not None and e.resolved_at <= now)
    if still_open == 0:
        status = "done"
    elif now > deadline:
        status = "overdue"
    else:
        current = next((w for w in weeks if w.ends_at >= now), weeks[-1])
        status = "on_track" if current.on_track else "behind"
    return Progress(start, deadline, tuple(weeks), status, still_open, resolved_total)
