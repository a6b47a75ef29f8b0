"""Signing readiness of commission members (R04): does each member hold a usable
certificate on a token for the session date? Pure: the caller supplies members,
certificate records, the date and, optionally, a way to ask whether a token is plugged in.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime

from domain.persian import TEHRAN
from signing.registry import CertificateRecord

EXPIRING_DAYS = 30

READY, MISSING, EXPIRING, REVOKED, EXPIRED = "ready", "missing", "expiring", "revoked", "expired"
STATUS_FA = {
    READY: "آماده",
    MISSING: "بدون گواهی یا توکن",
    EXPIRING: "گواهی رو به انقضا",
    REVOKED: "گواهی باطل‌شده",
    EXPIRED: "گواهی منقضی‌شده",
}


@dataclass(frozen=True)
class MemberRole:
    national_id: str
    full_name: str
    role: str
    unit: str


@dataclass(frozen=True)
class ReadinessRow:
    national_id: str
    full_name: str
    role: str
    unit: str
    status: str
    cert_serial: int | None
    not_after: date | None
    days_left: int | None
    token_label: str | None

    @property
    def status_fa(self) -> str:
        return STATUS_FA[self.status]

    @property
    def can_sign(self) -> bool:
        return self.status in (READY, EXPIRING)

    def to_dict(self) -> dict[str, object]:
        return {"national_id": self.national_id, "full_name": self.full_name, "role": self.role,
                "unit": self.unit, "status": self.status, "status_fa": self.status_fa,
                "cert_serial": f"{self.cert_serial:x}" if self.cert_serial is not None else None,
                "not_after": self.not_after.isoformat() if self.not_after else None,
                "days_left": self.days_left, "token_label": self.token_label}


def _day(when: datetime) -> date:
    return when.astimezone(TEHRAN).date()  # people read dates in Tehran


def _revoked_by(record: CertificateRecord, today: date) -> bool:
    return record.revoked_at is not None and _day(record.revoked_at) <= today


def _row(member: MemberRole, status: str, record: CertificateRecord | None, today: date) -> ReadinessRow:
    end = _day(record.not_after) if record else None
    return ReadinessRow(member.national_id, member.full_name, member.role, member.unit, status,
                        record.serial if record else None, end,
                        (end - today).days if end else None, record.token_label if record else None)


def member_readiness(member: MemberRole, certificates: Iterable[CertificateRecord], today: date,
                     token_present: Callable[[str], bool] | None = None) -> ReadinessRow:
    own = [c for c in certificates if c.national_id == member.national_id]
    usable = [c for c in own if not _revoked_by(c, today)
              and _day(c.not_before) <= today <= _day(c.not_after)]
    if token_present is not None:
        usable = [c for c in usable if token_present(c.token_label)]
    if usable:
        best = max(usable, key=lambda c: c.not_after)
        left = (_day(best.not_after) - today).days
        return _row(member, EXPIRING if left <= EXPIRING_DAYS else READY, best, today)
    # Nothing usable: explain with the newest certificate the person had.
    past = [c for c in own if _day(c.not_before) <= today]
    if not past or (token_present is not None and any(
            not _revoked_by(c, today) and today <= _day(c.not_after) for c in past)):
        return _row(member, MISSING, max(past, key=lambda c: c.not_before) if past else None, today)
    latest = max(past, key=lambda c: c.not_before)
    return _row(member, REVOKED if _revoked_by(latest, today) else EXPIRED, latest, today)


def readiness(members: list[MemberRole], certificates: list[CertificateRecord], today: date,
              token_present: Callable[[str], bool] | None = None) -> list[ReadinessRow]:
    """One row per member, in the members' order."""
    return [member_readiness(m, certificates, today, token_present) for m in members]


def summary_by_unit(rows: Iterable[ReadinessRow]) -> dict[str, Counter[str]]:
    """Per unit: how many members are in each status (the district readiness report)."""
    out: dict[str, Counter[str]] = {}
    for row in rows:
        out.setdefault(row.unit, Counter())[row.status] += 1
    return out
